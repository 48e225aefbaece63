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

/**
 * Aborts when the client hangs up before the answer to `request` was written in full: at the end
 * of its side of the connection (seen as soon as it arrives, where the connection's close comes
 * only after ours), or at the close of the connection.
 */
function clientGoneSignal(request: FastifyRequest, reply: FastifyReply): AbortSignal {
  const response = reply.raw;
  const socket = request.raw.socket;
  const controller = new AbortController();
  const gone = () => {
    socket.off('end', gone);
    response.off('close', gone);
    if (!response.writableFinished) controller.abort();
  };
  if (response.destroyed || socket.destroyed || socket.readableEnded) gone();
  else {
    socket.once('end', gone);
    response.once('close', gone);
  }
  return controller.signal;
}
