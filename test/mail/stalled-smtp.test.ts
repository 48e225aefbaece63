/**
 * An SMTP server that accepts connections and never answers: each reset email fails within the
 * transport's deadline (shortened here), the failure is logged and counted, `/readyz` shows that
 * mail is failing while staying ready, and the next message delivered clears it.
 */
import assert from 'node:assert/strict';
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import { after, test } from 'node:test';
import { smtpMailer } from '../../src/mail/mailer.js';
import { startTestService, submit } from '../support/service.js';
import { startSmtpServer } from '../support/smtp.js';

/**
 * Short, so that the stalled sends fail fast; long enough that a working send through the local
 * relay finishes within it on a loaded machine (at 500 ms one did not, and counted as a failure).
 */
const DEADLINE_MS = 2000;

/**
 * A TCP server in front of a real SMTP server: `silent`, it accepts connections and never says a
 * word; `greeting`, it greets and then never answers; `passing`, it passes them through.
 */
async function stallingFront(upstreamPort: number) {
  const sockets = new Set<Socket>();
  const front = { mode: 'silent' as 'silent' | 'greeting' | 'passing', url: '' };
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    if (front.mode === 'greeting') socket.write('220 stalled.example.com ESMTP\r\n');
    if (front.mode !== 'passing') return;
    const upstream = createConnection(upstreamPort, '127.0.0.1');
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => socket.destroy());
    socket.pipe(upstream).pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  front.url = `smtp://127.0.0.1:${(server.address() as AddressInfo).port}`;
  after(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  return front;
}

test('a stalled SMTP server fails each email within the deadline, counted and shown on /readyz', async () => {
  const smtp = await startSmtpServer();
  after(() => smtp.close());
  const front = await stallingFront(Number(new URL(smtp.url).port));
  const mailer = smtpMailer(front.url, 'Bienvenue <no-reply@example.com>', {
    deadlineMs: DEADLINE_MS,
  });
  const { app, auth, metrics, logs, clock } = await startTestService({}, { mailer });
  const emails = ['first@example.com', 'second@example.com', 'third@example.com'];
  const failures = async () =>
    Number(/bienvenue_mail_failures_total (\d+)/.exec(await metrics.registry.metrics())?.[1]);
  for (const email of emails) {
    const signUp = await submit(app, 'POST', '/users', { email, password: 'correct horse' });
    assert.equal(signUp.statusCode, 200);
  }
  assert.equal(await failures(), 0);

  const requestReset = async (email: string) => {
    const answer = await submit(app, 'POST', '/reset_password', { email });
    assert.equal(answer.statusCode, 200);
    await auth.drain();
  };
  const started = performance.now();
  await requestReset('first@example.com');
  // Generous: the deadline is 2 s; without one, nodemailer alone waits 30 s for a greeting.
  assert.ok(performance.now() - started < 10_000, 'the failure came within the deadline');
  assert.ok(logs.some((line) => line.includes('password reset email failed')));
  assert.equal(await failures(), 1);
  const firstFailure = clock.now();

  // A server that greets and then says nothing more (nodemailer alone would wait 10 minutes).
  front.mode = 'greeting';
  clock.advanceSeconds(120);
  const greeted = performance.now();
  await requestReset('second@example.com');
  assert.ok(performance.now() - greeted < 10_000, 'the failure came within the deadline');
  assert.equal(await failures(), 2);

  const failing = await app.inject({ method: 'GET', url: '/readyz' });
  assert.equal(failing.statusCode, 200, 'logins do not need mail: still ready');
  const body = failing.json<{
    status: string;
    mail?: { status: string; since: string; failures: number; lastError: string };
  }>();
  assert.equal(body.status, 'ready');
  assert.equal(body.mail?.status, 'failing');
  assert.equal(body.mail.since, new Date(firstFailure).toISOString());
  assert.equal(body.mail.failures, 2);
  // The kind of failure only: the transport's message names the server's address.
  assert.match(body.mail.lastError, /^[A-Za-z0-9_]+$/);
  assert.doesNotMatch(failing.body, /127\.0\.0\.1|localhost/);

  front.mode = 'passing';
  clock.advanceSeconds(120);
  await requestReset('third@example.com');
  const delivered = await smtp.nextMessage();
  assert.equal(delivered.subject, 'Reset your password');
  const recovered = await app.inject({ method: 'GET', url: '/readyz' });
  assert.deepEqual(recovered.json(), { status: 'ready' });
  assert.equal(await failures(), 2);
});
