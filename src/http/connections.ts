/**
 * Which connections a shutdown must wait for. Only those with a request "really in flight": one
 * received in full whose answer is not sent yet. Every other connection (idle keep-alive ones,
 * ones that have sent part of a request and stopped, ones still sending) is destroyed at once when
 * the shutdown begins, so that no client can hold a shutdown open.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface ConnectionTracker {
  /** Destroys every connection but those serving a fully received request; returns how many. */
  closeAllButInFlight(): number;
}

/** Starts following the connections of `server` (call before it listens). */
export function trackConnections(server: Server): ConnectionTracker {
  const connections = new Set<Socket>();
  const current = new WeakMap<Socket, { request: IncomingMessage; response: ServerResponse }>();
  server.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    current.set(request.socket, { request, response });
  });
  return {
    closeAllButInFlight() {
      let closed = 0;
      for (const socket of connections) {
        const exchange = current.get(socket);
        const inFlight =
          exchange !== undefined &&
          exchange.request.complete &&
          !exchange.response.writableFinished;
        if (!inFlight) {
          socket.destroy();
          closed += 1;
        }
      }
      return closed;
    },
  };
}
