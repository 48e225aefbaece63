/** HTTP spoken by hand over a TCP socket, for what no HTTP client will send. */
import { connect, type Socket } from 'node:net';

export interface RawAnswer {
  readonly status: number;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Opens a connection to 127.0.0.1:`port`; `received()` is everything read so far. */
export async function openSocket(port: number): Promise<{
  socket: Socket;
  received(): string;
  /** Resolves with everything received once the server has closed the connection. */
  closed: Promise<string>;
}> {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  // The server may reset a connection it closes with unread bytes; that counts as closed.
  socket.on('error', () => undefined);
  const closed = new Promise<string>((done) => socket.once('close', () => done(received)));
  await new Promise<void>((done, fail) => {
    socket.once('connect', done);
    socket.once('error', fail);
  });
  return { socket, received: () => received, closed };
}

/** Resolves once `condition()` holds; rejects with `what` after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 20));
  }
}

/**
 * Sends `bytes` and returns the answer once the server has closed the connection; fails if it
 * has not within `timeoutMs`.
 */
export async function exchange(
  port: number,
  bytes: string,
  timeoutMs = 10_000,
): Promise<RawAnswer> {
  const { socket, closed } = await openSocket(port);
  socket.write(bytes);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_done, fail) => {
    timer = setTimeout(() => {
      socket.destroy();
      fail(new Error(`the server did not close the connection within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    return parseAnswer(await Promise.race([closed, timeout]));
  } finally {
    clearTimeout(timer);
  }
}

/** The first HTTP answer in `text`. */
export function parseAnswer(text: string): RawAnswer {
  const end = text.indexOf('\r\n\r\n');
  if (end === -1) throw new Error(`no HTTP answer in ${JSON.stringify(text)}`);
  const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status, headers, body: text.slice(end + 4) };
}
