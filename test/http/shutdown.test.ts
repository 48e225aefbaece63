/**
 * SIGTERM with a stalled client connected, on the real process: the stalled connection (headers
 * and part of a body sent, then nothing) is closed at once, the request really in flight still
 * gets its answer, the reset email queued before the signal is still sent, and the process exits
 * 0 well before its 10 s grace runs out (past which it would exit 1).
 *
 * The request in flight is a sign-up held open by its Have I Been Pwned check, which goes to a
 * stub in this process: the stub holding the check is the proof that the request has arrived in
 * full and is being served, with no sleeping and guessing.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { formBody, startIsolatedServer } from '../support/process.js';
import { openSocket, waitFor } from '../support/raw-http.js';
import { startSmtpServer } from '../support/smtp.js';

test('SIGTERM closes a stalled connection at once, finishes the request in flight and its queued email, and exits 0', async () => {
  // The range API stub: answers at once, except the call the test holds.
  let hold = false;
  const held: ServerResponse[] = [];
  const hibp = createServer((_request, response) => {
    if (hold) held.push(response);
    else response.end('');
  });
  hibp.listen(0, '127.0.0.1');
  await once(hibp, 'listening');
  after(() => hibp.close());
  const smtp = await startSmtpServer();
  after(() => smtp.close());

  const server = await startIsolatedServer({
    BCRYPT_ROUNDS: '4',
    HIBP: 'on',
    HIBP_URL: `http://127.0.0.1:${(hibp.address() as AddressInfo).port}`,
    SMTP_URL: smtp.url,
  });
  const post = (path: string, fields: Record<string, string>) =>
    fetch(`${server.url}${path}`, { method: 'POST', body: formBody(fields) });
  const account = { email: 'gina@example.com', password: 'a long enough secret' };
  assert.equal((await post('/users', account)).status, 200);
  // A reset email waits in the background (for a random delay) when the signal comes.
  assert.equal((await post('/reset_password', { email: account.email })).status, 200);

  hold = true;
  const inFlight = post('/users', { email: 'hank@example.com', password: 'another fine secret' });
  await waitFor(() => held.length === 1, 'the sign-up to reach its password check');

  // Headers and part of a body, then nothing: `100 Continue` says the server holds the request.
  const stalled = await openSocket(server.port);
  stalled.socket.write(
    'POST /users HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\n' +
      'Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n',
  );
  await waitFor(
    () => stalled.received().includes('100 Continue'),
    'the server to take the request',
  );
  stalled.socket.write('email=sta');

  server.child.kill('SIGTERM');
  // Closed while the sign-up is still held: the shutdown did not wait for it.
  await stalled.closed;
  assert.equal(held.length, 1);
  held[0]?.end('');

  const response = await inFlight;
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { email: 'hank@example.com', message: 'user created' });
  assert.equal(await server.exited, 0, server.output());
  assert.doesNotMatch(server.output(), /shutdown took too long/);
  const mail = await smtp.nextMessage();
  assert.match(mail.text ?? '', /reset_password\?token=/);
});
