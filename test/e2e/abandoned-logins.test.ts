/**
 * Password work for clients that hung up, on the real process over real sockets: logins whose
 * client closed its connection are dropped before they hash, so they cannot stall the logins of
 * clients still waiting. The hashes that ran are counted from the service's metrics, not timed.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { test } from 'node:test';
import { freePort } from '../support/ports.js';
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

/** The password verifications the service ran so far, as its metrics count them. */
async function verificationsRun(metricsPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const line = /^bienvenue_password_hash_duration_seconds_count\{operation="verify"\} (\d+)$/m.exec(
    text,
  );
  // No line before the first verification; the real login's makes one.
  return Number(line?.[1] ?? 0);
}

test('after 80 abandoned logins from 3 addresses, a real login runs without waiting for their hashes', async () => {
  // Per-client limits stay on at their defaults: 80 logins from 3 addresses stay under them.
  const metricsPort = await freePort();
  const server = await startIsolatedServer({
    BCRYPT_ROUNDS: '12',
    LOG_LEVEL: 'warn',
    METRICS_PORT: String(metricsPort),
  });
  const credentials = formBody({ email: 'erin@example.com', password: 'patient password' });
  assert.equal(await post(server.port, '127.0.0.4', '/users', credentials.toString()), 200);
  assert.equal(await verificationsRun(metricsPort), 0);

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
  const status = await post(server.port, '127.0.0.4', '/sessions', credentials.toString());
  assert.equal(status, 200);
  // Counted, not timed: the real login's verification, and those few of the abandoned ones that
  // started before their hang-ups were seen (at most one per hashing slot, a few slots at most).
  // Had they all run, the count would be 81.
  const run = await verificationsRun(metricsPort);
  assert.ok(run >= 1 && run <= 9, `${run} verifications ran`);
});
