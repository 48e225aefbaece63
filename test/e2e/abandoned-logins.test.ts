/**
 * Password work for clients that hung up, on the real process over real sockets: logins whose
 * client closed its connection are dropped before they hash, so they cannot stall the logins of
 * clients still waiting.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { test } from 'node:test';
import { formBody, startIsolatedServer } from '../support/process.js';

/** Sends `body` to POST `path` from `localAddress`, then closes the socket without reading. */
function sendAndHangUp(port: number, localAddress: string, path: string, body: string) {
  return new Promise<void>((done, fail) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress }, () => {
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
          'Content-Type: application/x-www-form-urlencoded\r\n' +
          `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      socket.destroy();
      done();
    });
    socket.once('error', fail);
  });
}

/** POSTs `body` to `path` from `localAddress`; resolves with the status. */
function post(port: number, localAddress: string, path: string, body: string) {
  return new Promise<number>((done, fail) => {
    const outgoing = request(
      {
        port,
        host: '127.0.0.1',
        localAddress,
        method: 'POST',
        path,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      },
      (response) => {
        response.resume();
        response.once('end', () => done(response.statusCode ?? 0));
      },
    );
    outgoing.once('error', fail);
    outgoing.end(body);
  });
}

test('after 80 abandoned logins from 3 addresses, a real login answers within 3 s at cost 12', async () => {
  // Per-client limits stay on at their defaults: 80 logins from 3 addresses stay under them.
  const server = await startIsolatedServer({ BCRYPT_ROUNDS: '12', LOG_LEVEL: 'warn' });
  const credentials = formBody({ email: 'erin@example.com', password: 'patient password' });
  assert.equal(await post(server.port, '127.0.0.4', '/users', credentials.toString()), 200);

  await Promise.all(
    Array.from({ length: 80 }, (_, i) =>
      sendAndHangUp(
        server.port,
        `127.0.0.${1 + (i % 3)}`,
        '/sessions',
        formBody({ email: `guess${i}@example.com`, password: `guess number ${i}` }).toString(),
      ),
    ),
  );
  const started = performance.now();
  const status = await post(server.port, '127.0.0.4', '/sessions', credentials.toString());
  const elapsedMs = performance.now() - started;
  assert.equal(status, 200);
  assert.ok(elapsedMs < 3000, `the login took ${Math.round(elapsedMs)} ms`);
});
