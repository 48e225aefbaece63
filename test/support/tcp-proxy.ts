/**
 * A TCP proxy the test controls, put between the service and its database to simulate outages:
 * `down` cuts every open connection and resets new ones at once (a crashed server), `hang` cuts
 * them and then accepts new ones without ever answering (a network black hole), `up` forwards.
 */
import { connect, createServer, type Socket } from 'node:net';
import { after } from 'node:test';

export type ProxyMode = 'up' | 'down' | 'hang';

export interface TcpProxy {
  readonly port: number;
  setMode(mode: ProxyMode): void;
}

/** Listens on a free loopback port and forwards to `target`; closed when the test file ends. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: ProxyMode = 'up';
  const open = new Set<Socket>();
  const track = (socket: Socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = createServer((client) => {
    track(client);
    if (mode === 'down') {
      client.resetAndDestroy();
      return;
    }
    if (mode === 'hang') return;
    const upstream = connect(target.port, target.host);
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  after(async () => {
    for (const socket of open) socket.destroy();
    await new Promise<void>((done) => server.close(() => done()));
  });
  return {
    port: address.port,
    setMode(next) {
      mode = next;
      // Whatever the change, connections made under the previous mode do not survive it.
      for (const socket of open) socket.destroy();
    },
  };
}
