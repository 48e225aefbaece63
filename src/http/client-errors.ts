/**
 * Answers to requests that Node's HTTP parser refuses before Fastify sees them: malformed
 * requests (400), requests not fully received in time (408) and oversized headers (431). They get
 * what every answer carries (`Cache-Control: no-store`, `X-Content-Type-Options: nosniff`, a new
 * request id in `X-Request-Id` and the body) and a JSON body with a `message` and a stable `code`;
 * then the connection is closed.
 *
 * Nothing of the request itself is logged: Node hands over the bytes it received with the error
 * (`rawPacket`), and they may hold a password, a cookie or a token.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { answerOf, codeForStatus } from './errors.js';

/** How long a refused client may take to read its answer before the socket is destroyed. */
const LINGER_MS = 1000;

/** The status an HTTP parser error is answered with. */
export function statusOfClientError(error: { code?: unknown }): number {
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  if (error.code === 'HPE_HEADER_OVERFLOW') return 431;
  return 400;
}

/** The whole HTTP answer to a request the parser refused with `status`, as bytes to write. */
export function clientErrorAnswer(status: number, requestId: string): string {
  const body = JSON.stringify(answerOf({ code: codeForStatus(status) }, requestId).body);
  return [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Cache-Control: no-store',
    'X-Content-Type-Options: nosniff',
    `X-Request-Id: ${requestId}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/** Fastify's `clientErrorHandler`: answers the refused request, logs its kind, closes. */
export function handleClientError(
  this: FastifyInstance,
  error: Error & { code?: string },
  socket: Socket,
): void {
  // A reset connection is gone already; there is no one to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const status = statusOfClientError(error);
  const requestId = randomUUID();
  // Never `error` itself: it carries the raw bytes received.
  this.log.debug(
    { reqId: requestId, status, code: error.code },
    'refused a request the HTTP parser could not accept',
  );
  // An answer already begun on this connection cannot be followed by another one.
  const response = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!socket.writable || response?.headersSent === true) {
    socket.destroy();
    return;
  }
  socket.end(clientErrorAnswer(status, requestId), () => socket.destroy());
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}
