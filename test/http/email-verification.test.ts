/**
 * Email verification through the front door, on the engine under test, with real mail through
 * the in-process SMTP server: the link a sign-up sends, which GET never spends and POST spends
 * once, its expiry (an injected clock), asking again, what EMAIL_VERIFICATION=required refuses,
 * and the other ways an address becomes verified.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { smtpMailer } from '../../src/mail/mailer.js';
import { linksOf, recipientOf, single, tokenOf } from '../support/mail-links.js';
import { form, sessionCookie, startTestService, submit } from '../support/service.js';
import { startSmtpServer, type TestSmtpServer } from '../support/smtp.js';

const PASSWORD = 'correct horse';

/** A service mailing through a fresh in-process SMTP server. */
async function withMail(env: Record<string, string>) {
  const smtp = await startSmtpServer();
  after(() => smtp.close());
  const service = await startTestService(env, {
    mailer: smtpMailer(smtp.url, 'Accounts <accounts@example.org>'),
  });
  return { ...service, smtp };
}

/** The mails delivered so far, once the background work is done. */
async function delivered(service: { auth: { drain(): Promise<void> }; smtp: TestSmtpServer }) {
  await service.auth.drain();
  return service.smtp.messages;
}

const signUp = (app: FastifyInstance, email: string, password = PASSWORD) =>
  app.inject({ method: 'POST', url: '/users', payload: { email, password } });
const logIn = (app: FastifyInstance, email: string, password = PASSWORD) =>
  app.inject({ method: 'POST', url: '/sessions', payload: { email, password } });
const verify = (app: FastifyInstance, token: string) =>
  app.inject({ method: 'POST', url: '/verify_email', payload: { token } });
const resend = (app: FastifyInstance, email: string) =>
  app.inject({ method: 'POST', url: '/verify_email/resend', payload: { email } });

async function profileOf(app: FastifyInstance, email: string, password = PASSWORD) {
  const session = sessionCookie(await logIn(app, email, password));
  assert.ok(session, 'logged in');
  const profile = await app.inject({ url: '/profile', cookies: { session_id: session } });
  assert.equal(profile.statusCode, 200);
  return profile.json<{ email: string; email_verified: boolean }>();
}

describe('the verification link', () => {
  test('a sign-up mails a link; GET (API or browser) spends nothing, POST verifies, once', async () => {
    const service = await withMail({ EMAIL_VERIFICATION: 'optional' });
    const { app, smtp } = service;
    assert.equal((await signUp(app, 'ada@example.com')).statusCode, 200);
    const mail = await smtp.nextMessage();
    assert.equal(recipientOf(mail), 'ada@example.com');
    assert.equal(mail.subject, 'Confirm your email address');
    const token = tokenOf(mail, '/verify_email');
    assert.ok(linksOf(mail)[0]?.startsWith('http://auth.test/verify_email?token='));
    assert.equal((await profileOf(app, 'ada@example.com')).email_verified, false);

    // What a mail scanner does: open the link, as a browser and as a plain client.
    const api = await app.inject({ url: `/verify_email?token=${token}` });
    assert.equal(api.statusCode, 200);
    assert.match(api.json<{ message: string }>().message, /POST \/verify_email/);
    const page = await app.inject({
      url: `/verify_email?token=${token}`,
      headers: { accept: 'text/html' },
    });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Confirm my address/);
    assert.match(page.body, new RegExp(`name="token" value="${token}"`));
    assert.equal((await profileOf(app, 'ada@example.com')).email_verified, false);

    const first = await verify(app, token);
    assert.equal(first.statusCode, 200);
    assert.deepEqual(first.json(), { email: 'ada@example.com', message: 'email verified' });
    assert.equal((await profileOf(app, 'ada@example.com')).email_verified, true);

    const second = await verify(app, token);
    assert.equal(second.statusCode, 400);
    assert.equal(second.json<{ code: string }>().code, 'invalid_token');

    const events = await service.admin.events({ email: 'ada@example.com', limit: 50 });
    const types = events.map((event) => event.type);
    assert.ok(types.includes('email_verification_sent'));
    assert.equal(types.filter((type) => type === 'email_verified').length, 1);
  });

  test('the sign-up page sends the link and says to check the inbox; its button verifies', async () => {
    const service = await withMail({ EMAIL_VERIFICATION: 'optional' });
    const { app, smtp } = service;
    const origin = { origin: 'http://auth.test' };
    const signUpPage = await app.inject({
      method: 'POST',
      url: '/signup',
      headers: { ...form({}).headers, ...origin },
      payload: form({ email: 'page@example.com', password: PASSWORD }).payload,
    });
    assert.equal(signUpPage.statusCode, 200);
    assert.match(signUpPage.body, /Check your inbox/);
    const token = tokenOf(await smtp.nextMessage(), '/verify_email');
    const pressed = await app.inject({
      method: 'POST',
      url: '/verify',
      headers: { ...form({}).headers, ...origin },
      payload: form({ token }).payload,
    });
    assert.equal(pressed.statusCode, 303);
    assert.equal(pressed.headers.location, '/login?notice=email_verified');
    assert.equal((await profileOf(app, 'page@example.com')).email_verified, true);
    const again = await app.inject({
      method: 'POST',
      url: '/verify',
      headers: { ...form({}).headers, ...origin },
      payload: form({ token }).payload,
    });
    assert.equal(again.statusCode, 400);
    assert.match(again.body, /already used/);
  });

  test('a token past EMAIL_VERIFICATION_TTL is refused, and the address stays unverified', async () => {
    const service = await withMail({
      EMAIL_VERIFICATION: 'optional',
      EMAIL_VERIFICATION_TTL: '3600',
    });
    const { app, smtp, clock } = service;
    await signUp(app, 'late@example.com');
    const token = tokenOf(await smtp.nextMessage(), '/verify_email');
    clock.advanceSeconds(3600);
    const late = await verify(app, token);
    assert.equal(late.statusCode, 400);
    assert.equal(late.json<{ code: string }>().code, 'invalid_token');
    assert.equal((await profileOf(app, 'late@example.com')).email_verified, false);
  });

  test('a token one second before its end still works', async () => {
    const service = await withMail({
      EMAIL_VERIFICATION: 'optional',
      EMAIL_VERIFICATION_TTL: '3600',
    });
    const { app, smtp, clock } = service;
    await signUp(app, 'timely@example.com');
    const token = tokenOf(await smtp.nextMessage(), '/verify_email');
    clock.advanceSeconds(3599);
    assert.equal((await verify(app, token)).statusCode, 200);
  });

  test('malformed and unknown tokens are refused with invalid_token', async () => {
    const { app } = await startTestService({ EMAIL_VERIFICATION: 'optional' });
    for (const token of ['nonsense', '00000000-0000-4000-8000-000000000000']) {
      const answer = await verify(app, token);
      assert.equal(answer.statusCode, 400);
      assert.equal(answer.json<{ code: string }>().code, 'invalid_token');
    }
    const missing = await app.inject({ method: 'POST', url: '/verify_email', payload: {} });
    assert.equal(missing.statusCode, 400);
  });

  test('with EMAIL_VERIFICATION=off a sign-up sends nothing', async () => {
    const service = await withMail({ EMAIL_VERIFICATION: 'off' });
    await signUp(service.app, 'quiet@example.com');
    await resend(service.app, 'quiet@example.com');
    assert.equal((await delivered(service)).length, 0);
  });
});

describe('asking for a new link', () => {
  test('the same answer for every address; only an unverified account is mailed', async () => {
    const service = await withMail({ EMAIL_VERIFICATION: 'optional' });
    const { app, smtp } = service;
    await signUp(app, 'pending@example.com');
    await signUp(app, 'done@example.com');
    await smtp.nextMessage();
    await smtp.nextMessage();
    const done = (await delivered(service)).find(
      (mail) => recipientOf(mail) === 'done@example.com',
    );
    assert.ok(done);
    assert.equal((await verify(app, tokenOf(done, '/verify_email'))).statusCode, 200);

    const answers = [];
    for (const email of ['pending@example.com', 'done@example.com', 'nobody@example.com']) {
      const answer = await resend(app, email);
      assert.equal(answer.statusCode, 200);
      const { email: echoed, ...rest } = answer.json<{ email: string; message: string }>();
      assert.equal(echoed, email);
      answers.push(rest);
    }
    assert.deepEqual(answers[0], answers[1]);
    assert.deepEqual(answers[0], answers[2]);
    const mails = await delivered(service);
    const newLink = single(mails.slice(2));
    assert.equal(recipientOf(newLink), 'pending@example.com', 'only the unverified account');
    assert.equal((await verify(app, tokenOf(newLink, '/verify_email'))).statusCode, 200);
  });

  test('with abuse protection on, an account gets one link a minute however the requests come', async () => {
    const service = await withMail({
      EMAIL_VERIFICATION: 'optional',
      RATE_LIMIT: 'on',
      RATE_LIMIT_RESET_REQUEST: '1000/60',
      RATE_LIMIT_SIGNUP: '1000/60',
      RESET_EMAIL_LIMIT: '3/3600',
    });
    const { app, clock } = service;
    await signUp(app, 'spam@example.com');
    assert.equal((await delivered(service)).length, 1, 'the sign-up link');
    await Promise.all([1, 2, 3].map(() => resend(app, 'spam@example.com')));
    assert.equal((await delivered(service)).length, 1, 'none within the minute');
    clock.advanceSeconds(61);
    await Promise.all([1, 2, 3].map(() => resend(app, 'spam@example.com')));
    assert.equal((await delivered(service)).length, 2, 'one in the next minute');
    for (let minute = 0; minute < 3; minute += 1) {
      clock.advanceSeconds(61);
      await resend(app, 'spam@example.com');
    }
    assert.equal((await delivered(service)).length, 3, 'RESET_EMAIL_LIMIT per hour');
  });

  test('per client, resend requests share the reset requests’ limit', async () => {
    const { app } = await startTestService({
      EMAIL_VERIFICATION: 'optional',
      RATE_LIMIT: 'on',
      RATE_LIMIT_RESET_REQUEST: '2/60',
    });
    assert.equal((await resend(app, 'a@example.com')).statusCode, 200);
    assert.equal((await resend(app, 'b@example.com')).statusCode, 200);
    const third = await resend(app, 'c@example.com');
    assert.equal(third.statusCode, 429);
  });
});

describe('EMAIL_VERIFICATION=required', () => {
  test('an unverified account is refused only after a right password, then logs in once verified', async () => {
    const service = await withMail({ EMAIL_VERIFICATION: 'required' });
    const { app, smtp } = service;
    await signUp(app, 'strict@example.com');
    const token = tokenOf(await smtp.nextMessage(), '/verify_email');

    const wrong = await logIn(app, 'strict@example.com', 'not the password');
    const unknown = await logIn(app, 'nobody@example.com', 'not the password');
    assert.equal(wrong.statusCode, 401);
    assert.equal(wrong.json<{ code: string }>().code, 'invalid_credentials');
    assert.equal(unknown.json<{ code: string }>().code, 'invalid_credentials');

    const right = await logIn(app, 'strict@example.com');
    assert.equal(right.statusCode, 403);
    assert.equal(right.json<{ code: string }>().code, 'email_not_verified');
    assert.equal(sessionCookie(right), undefined, 'no session');

    assert.equal((await verify(app, token)).statusCode, 200);
    const after = await logIn(app, 'strict@example.com');
    assert.equal(after.statusCode, 200);
    assert.ok(sessionCookie(after));
  });

  test('the login page says the address is not verified and offers a new link', async () => {
    const service = await withMail({ EMAIL_VERIFICATION: 'required' });
    const { app, smtp } = service;
    await signUp(app, 'strict@example.com');
    await smtp.nextMessage();
    const origin = { origin: 'http://auth.test' };
    const page = await app.inject({
      method: 'POST',
      url: '/login',
      headers: { ...form({}).headers, ...origin },
      payload: form({ email: 'strict@example.com', password: PASSWORD }).payload,
    });
    assert.equal(page.statusCode, 403);
    assert.match(page.body, /not verified yet/);
    assert.match(page.body, /action="\/verify\/resend"/);
    const wrongPassword = await app.inject({
      method: 'POST',
      url: '/login',
      headers: { ...form({}).headers, ...origin },
      payload: form({ email: 'strict@example.com', password: 'nope nope' }).payload,
    });
    assert.equal(wrongPassword.statusCode, 401);
    assert.doesNotMatch(wrongPassword.body, /not verified/);

    const asked = await app.inject({
      method: 'POST',
      url: '/verify/resend',
      headers: { ...form({}).headers, ...origin },
      payload: form({ email: 'strict@example.com' }).payload,
    });
    assert.equal(asked.statusCode, 200);
    assert.match(asked.body, /Check your inbox/);
    const mail = await smtp.nextMessage();
    assert.equal(recipientOf(mail), 'strict@example.com');
    assert.equal((await verify(app, tokenOf(mail, '/verify_email'))).statusCode, 200);
  });
});

describe('other proofs of an address', () => {
  test('a reset completed from an emailed link verifies the address; a token handed out does not', async () => {
    const service = await withMail({ EMAIL_VERIFICATION: 'optional' });
    const { app, smtp } = service;
    await signUp(app, 'reset@example.com');
    await smtp.nextMessage();
    const asked = await submit(app, 'POST', '/reset_password', { email: 'reset@example.com' });
    assert.equal(asked.statusCode, 200);
    const resetToken = tokenOf(await smtp.nextMessage(), '/reset_password');
    const updated = await submit(app, 'PUT', '/reset_password', {
      email: 'reset@example.com',
      reset_token: resetToken,
      new_password: 'a new password',
    });
    assert.equal(updated.statusCode, 200);
    assert.equal(
      (await profileOf(app, 'reset@example.com', 'a new password')).email_verified,
      true,
    );

    const handedOut = await startTestService({
      EMAIL_VERIFICATION: 'optional',
      RESET_TOKEN_IN_RESPONSE: 'true',
    });
    await signUp(handedOut.app, 'course@example.com');
    const issued = await submit(handedOut.app, 'POST', '/reset_password', {
      email: 'course@example.com',
    });
    const token = issued.json<{ reset_token: string }>().reset_token;
    const done = await submit(handedOut.app, 'PUT', '/reset_password', {
      email: 'course@example.com',
      reset_token: token,
      new_password: 'a new password',
    });
    assert.equal(done.statusCode, 200);
    const profile = await profileOf(handedOut.app, 'course@example.com', 'a new password');
    assert.equal(profile.email_verified, false, 'a token in the answer proves no address');
  });

  test('accounts the operator adds or invites are verified', async () => {
    const { app, auth } = await startTestService({ EMAIL_VERIFICATION: 'required' });
    await auth.addUser('added@example.com', PASSWORD);
    assert.equal((await profileOf(app, 'added@example.com')).email_verified, true);
    const invited = await auth.inviteUser('invited@example.com');
    assert.equal(invited.emailVerified, true);
  });
});
