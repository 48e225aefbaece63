/**
 * Password resets with real mail, through a real SMTP server running in this test process: end to
 * end with the real server process, and the limits on reset emails with an injected clock.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { formBody, startIsolatedServer } from '../support/process.js';
import { smtpMailer } from '../../src/mail/mailer.js';
import { startTestService, submit } from '../support/service.js';
import { startSmtpServer } from '../support/smtp.js';

test('a reset link sent over SMTP completes the reset, once', async () => {
  const smtp = await startSmtpServer();
  after(() => smtp.close());
  const { url } = await startIsolatedServer({
    BCRYPT_ROUNDS: '4',
    PUBLIC_URL: 'https://accounts.example.org',
    SMTP_URL: smtp.url,
    MAIL_FROM: 'Accounts <accounts@example.org>',
  });
  const send = (method: string, path: string, fields: Record<string, string>) =>
    fetch(`${url}${path}`, { method, body: formBody(fields) });

  const email = 'carol@example.com';
  assert.equal((await send('POST', '/users', { email, password: 'old password' })).status, 200);
  const request = await send('POST', '/reset_password', { email });
  assert.equal(request.status, 200);
  assert.ok(!('reset_token' in ((await request.json()) as object)));

  const mail = await smtp.nextMessage();
  assert.equal(mail.subject, 'Reset your password');
  assert.equal(mail.from?.value[0]?.address, 'accounts@example.org');
  const to = Array.isArray(mail.to) ? mail.to[0] : mail.to;
  assert.equal(to?.value[0]?.address, email);
  const link = /https:\/\/accounts\.example\.org\/reset_password\?token=\S+/.exec(mail.text ?? '');
  assert.ok(link, mail.text);
  const token = new URL(link[0]).searchParams.get('token');
  assert.ok(token);

  const update = (newPassword: string) =>
    send('PUT', '/reset_password', { email, reset_token: token, new_password: newPassword });
  assert.equal((await update('new password')).status, 200);
  assert.equal((await update('another password')).status, 403);
  assert.equal((await send('POST', '/sessions', { email, password: 'new password' })).status, 200);
  assert.equal((await send('POST', '/sessions', { email, password: 'old password' })).status, 401);

  // No mail at all for an address without an account, and the same answer.
  const stranger = await send('POST', '/reset_password', { email: 'nobody@example.com' });
  assert.equal(stranger.status, 200);
  await assert.rejects(smtp.nextMessage(1000), /no email arrived/);
});

test('an account gets at most one reset email a minute, however the requests arrive', async () => {
  const smtp = await startSmtpServer();
  after(() => smtp.close());
  const { app, auth, clock } = await startTestService(
    // RESET_EMAIL_LIMIT, the longer bound, is far from reached here.
    { RATE_LIMIT: 'on', RATE_LIMIT_RESET_REQUEST: '1000/60', RESET_EMAIL_LIMIT: '3/3600' },
    { mailer: smtpMailer(smtp.url, 'Accounts <accounts@example.org>') },
  );
  const email = 'dora@example.com';
  await auth.registerUser(email, 'dora password');
  const requestReset = async () => {
    const response = await submit(app, 'POST', '/reset_password', { email });
    assert.equal(response.statusCode, 200);
  };
  /** Emails delivered so far, once every reset request's background work is done. */
  const delivered = async () => {
    await auth.drain();
    return smtp.messages.length;
  };

  await Promise.all([requestReset(), requestReset(), requestReset()]);
  assert.equal(await delivered(), 1, 'three parallel requests: one email');
  for (let i = 0; i < 3; i += 1) {
    clock.advanceSeconds(15);
    await requestReset();
  }
  assert.equal(await delivered(), 1, 'three more within the minute: none');
  clock.advanceSeconds(15);
  await requestReset();
  assert.equal(await delivered(), 2, 'a minute after the first: another one');
  await Promise.all([requestReset(), requestReset()]);
  assert.equal(await delivered(), 2);
});
