/**
 * What the Auth service is told about a request: the client address and user agent (for the audit
 * log) and, given the reply, a signal that aborts once the client has hung up before its answer
 * was sent, so that password work still queued for it is dropped.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RequestContext } from '../auth/audit.js';

/**
 * The context of `request`; with `reply`, its signal too. Fastify's own `request.signal` will not
 * do: it follows the request stream, which closes as soon as the body has been read.
 */
export function contextOf(request: FastifyRequest, reply?: FastifyReply): RequestContext {
  const userAgent = request.headers['user-agent'];
  const context = { ip: request.ip, ...(userAgent !== undefined && { userAgent }) };
  return reply === undefined ? context : { ...context, signal: clientGoneSignal(request, reply) };
}

/** Aborts when the connection closes before the answer to `request` was written in full. */
function clientGoneSignal(request: FastifyRequest, reply: FastifyReply): AbortSignal {
  const response = reply.raw;
  const controller = new AbortController();
  const abortIfUnanswered = () => {
    if (!response.writableFinished) controller.abort();
  };
  if (response.destroyed || request.raw.socket.destroyed) abortIfUnanswered();
  else response.once('close', abortIfUnanswered);
  return controller.signal;
}
