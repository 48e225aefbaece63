/**
 * A password reset end to end with real mail: the real server process sends the link through a
 * real SMTP server (running in this test process), and the reset is completed from that link.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { formBody, startIsolatedServer } from '../support/process.js';
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
