/**
 * Changing an account's address through the front door, on the engine under test, with real mail
 * through the in-process SMTP server: the notice to the old address (no link), the link to the new
 * one (GET spends nothing, POST completes it once), a taken address that can change nothing, two
 * accounts racing for one address (exactly one wins), and the sessions that end.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { smtpMailer } from '../../src/mail/mailer.js';
import { linksOf, recipientOf, single, tokenOf } from '../support/mail-links.js';
import { form, sessionCookie, startTestService } from '../support/service.js';
import { startSmtpServer } from '../support/smtp.js';

const PASSWORD = 'correct horse';

async function withMail(env: Record<string, string> = {}) {
  const smtp = await startSmtpServer();
  after(() => smtp.close());
  const service = await startTestService(
    { EMAIL_VERIFICATION: 'optional', ...env },
    { mailer: smtpMailer(smtp.url, 'Accounts <accounts@example.org>') },
  );
  /** The mails delivered so far, once the background work is done. */
  const delivered = async () => {
    await service.auth.drain();
    return smtp.messages;
  };
  /** The mails delivered to `address`. */
  const mailsTo = async (address: string) =>
    (await delivered()).filter((mail) => recipientOf(mail) === address);
  return { ...service, smtp, delivered, mailsTo };
}

const signUp = (app: FastifyInstance, email: string) =>
  app.inject({ method: 'POST', url: '/users', payload: { email, password: PASSWORD } });

async function logIn(app: FastifyInstance, email: string, password = PASSWORD) {
  const answer = await app.inject({
    method: 'POST',
    url: '/sessions',
    payload: { email, password },
  });
  return sessionCookie(answer);
}

async function profile(app: FastifyInstance, session: string | undefined) {
  return app.inject({ url: '/profile', cookies: { session_id: session ?? '' } });
}

const askChange = (
  app: FastifyInstance,
  session: string | undefined,
  fields: { password?: string; new_email: string },
) =>
  app.inject({
    method: 'PUT',
    url: '/profile/email',
    cookies: { session_id: session ?? '' },
    payload: { password: PASSWORD, ...fields },
  });

const confirm = (app: FastifyInstance, token: string) =>
  app.inject({ method: 'POST', url: '/confirm_email_change', payload: { token } });

describe('changing the address', () => {
  test('the old address gets a notice without a link, the new one a link; POST completes it', async () => {
    const service = await withMail();
    const { app, mailsTo } = service;
    await signUp(app, 'old@example.com');
    const asking = await logIn(app, 'old@example.com');
    const other = await logIn(app, 'old@example.com');
    assert.ok(asking && other);

    const asked = await askChange(app, asking, { new_email: 'New@Example.com' });
    assert.equal(asked.statusCode, 200);
    assert.equal(asked.json<{ email: string }>().email, 'old@example.com');

    const notices = (await mailsTo('old@example.com')).filter((mail) =>
      /change/i.test(mail.subject ?? ''),
    );
    const notice = single(notices);
    assert.deepEqual(linksOf(notice), [], 'the notice carries no link');
    assert.match(notice.text ?? '', /reset your password/);
    const token = tokenOf(single(await mailsTo('new@example.com')), '/confirm_email_change');

    // Until it is used, nothing changes, and opening the link is not using it.
    const opened = await app.inject({
      url: `/confirm_email_change?token=${token}`,
      headers: { accept: 'text/html' },
    });
    assert.equal(opened.statusCode, 200);
    assert.match(opened.body, /action="\/confirm_email"/);
    const json = await app.inject({ url: `/confirm_email_change?token=${token}` });
    assert.match(json.json<{ message: string }>().message, /POST \/confirm_email_change/);
    assert.equal((await profile(app, other)).json<{ email: string }>().email, 'old@example.com');
    assert.ok(await logIn(app, 'old@example.com'), 'the old address still logs in');

    const done = await confirm(app, token);
    assert.equal(done.statusCode, 200);
    assert.deepEqual(done.json(), { email: 'new@example.com', message: 'email changed' });
    const mine = await profile(app, asking);
    assert.equal(mine.statusCode, 200, 'the session that asked stays');
    assert.deepEqual(mine.json(), {
      email: 'new@example.com',
      two_factor: false,
      email_verified: true,
    });
    assert.equal((await profile(app, other)).statusCode, 403, 'every other session ended');
    assert.equal(await logIn(app, 'old@example.com'), undefined);
    assert.ok(await logIn(app, 'new@example.com'));

    const again = await confirm(app, token);
    assert.equal(again.statusCode, 400);
    assert.equal(again.json<{ code: string }>().code, 'invalid_token');
    assert.equal((await signUp(app, 'old@example.com')).statusCode, 200, 'the old address is free');

    const events = await service.admin.events({ email: 'new@example.com', limit: 50 });
    const requested = events.find((event) => event.type === 'email_change_requested');
    const changed = events.find((event) => event.type === 'email_changed');
    assert.ok(requested && changed);
    assert.equal(requested.email, 'old@example.com');
    assert.equal(requested.newEmail, 'new@example.com');
    assert.equal(changed.email, 'old@example.com');
    assert.equal(changed.newEmail, 'new@example.com');
  });

  test('the page’s button completes the change and leads the session that asked to its account', async () => {
    const { app, mailsTo } = await withMail();
    await signUp(app, 'page@example.com');
    const session = await logIn(app, 'page@example.com');
    const origin = { origin: 'http://auth.test' };
    const asked = await app.inject({
      method: 'POST',
      url: '/account/email',
      cookies: { session_id: session ?? '' },
      headers: { ...form({}).headers, ...origin },
      payload: form({ new_email: 'paged@example.com', password: PASSWORD }).payload,
    });
    assert.equal(asked.statusCode, 303);
    assert.equal(asked.headers.location, '/account?notice=email_change_sent');
    const token = tokenOf(single(await mailsTo('paged@example.com')), '/confirm_email_change');
    const pressed = await app.inject({
      method: 'POST',
      url: '/confirm_email',
      cookies: { session_id: session ?? '' },
      headers: { ...form({}).headers, ...origin },
      payload: form({ token }).payload,
    });
    assert.equal(pressed.statusCode, 303);
    assert.equal(pressed.headers.location, '/account?notice=email_changed');
    const account = await app.inject({ url: '/account', cookies: { session_id: session ?? '' } });
    assert.match(account.body, /paged@example\.com/);
    assert.match(account.body, /verified/);
  });

  test('a taken address gets the same answer, a mail saying so, no link, and nothing changes', async () => {
    const { app, mailsTo, delivered } = await withMail();
    await signUp(app, 'mover@example.com');
    await signUp(app, 'taken@example.com');
    await signUp(app, 'free@example.com');
    const mover = await logIn(app, 'mover@example.com');
    const before = (await delivered()).length;

    const toTaken = await askChange(app, mover, { new_email: 'taken@example.com' });
    const toFree = await askChange(app, mover, { new_email: 'brand-new@example.com' });
    assert.equal(toTaken.statusCode, toFree.statusCode);
    const bodyOf = (answer: typeof toTaken) => answer.json<{ message: string; email: string }>();
    assert.deepEqual(bodyOf(toTaken), bodyOf(toFree));

    const said = single((await mailsTo('taken@example.com')).slice(1));
    assert.match(said.text ?? '', /already registered/);
    assert.deepEqual(linksOf(said), [], 'no link to change anything');
    assert.equal((await delivered()).length, before + 4, 'two notices, one word, one link');
    assert.equal((await profile(app, mover)).json<{ email: string }>().email, 'mover@example.com');
  });

  test('a password reset by the owner ends a change someone else asked for', async () => {
    const service = await withMail();
    const { app, mailsTo } = service;
    await signUp(app, 'owner@example.com');
    const intruder = await logIn(app, 'owner@example.com');
    assert.equal(
      (await askChange(app, intruder, { new_email: 'thief@example.com' })).statusCode,
      200,
    );
    const token = tokenOf(single(await mailsTo('thief@example.com')), '/confirm_email_change');

    // The owner does what the notice says: a reset by email, which ends every session.
    await app.inject({
      method: 'POST',
      url: '/reset_password',
      payload: { email: 'owner@example.com' },
    });
    const resets = (await mailsTo('owner@example.com')).filter((mail) =>
      linksOf(mail).some((link) => link.includes('/reset_password')),
    );
    const resetToken = tokenOf(single(resets), '/reset_password');
    const reset = await app.inject({
      method: 'PUT',
      url: '/reset_password',
      payload: {
        email: 'owner@example.com',
        reset_token: resetToken,
        new_password: 'a new password',
      },
    });
    assert.equal(reset.statusCode, 200, reset.body);

    const refused = await confirm(app, token);
    assert.equal(refused.statusCode, 400, refused.body);
    assert.equal(refused.json<{ code: string }>().code, 'invalid_token');
    const owner = await logIn(app, 'owner@example.com', 'a new password');
    assert.equal((await profile(app, owner)).json<{ email: string }>().email, 'owner@example.com');
    assert.equal(await logIn(app, 'thief@example.com', 'a new password'), undefined);
  });

  test('with abuse protection on, the new address gets one mail a minute however often it is asked for', async () => {
    const service = await withMail({
      RATE_LIMIT: 'on',
      RATE_LIMIT_ACCOUNT: '1000/60',
      RATE_LIMIT_SIGNUP: '1000/60',
      RATE_LIMIT_LOGIN: '1000/60',
    });
    const { app, mailsTo, clock } = service;
    await signUp(app, 'asker@example.com');
    const asking = await logIn(app, 'asker@example.com');
    for (let request = 0; request < 3; request += 1) {
      assert.equal(
        (await askChange(app, asking, { new_email: 'target@example.com' })).statusCode,
        200,
      );
    }
    assert.equal((await mailsTo('target@example.com')).length, 1, 'one within the minute');
    const notices = (await mailsTo('asker@example.com')).filter((mail) =>
      /change/i.test(mail.subject ?? ''),
    );
    assert.equal(notices.length, 3, 'the owner hears of every request');
    clock.advanceSeconds(61);
    await askChange(app, asking, { new_email: 'target@example.com' });
    assert.equal((await mailsTo('target@example.com')).length, 2, 'one in the next minute');
  });

  test('two accounts racing to confirm one address: exactly one wins, the other gets 409', async () => {
    const { app, mailsTo } = await withMail();
    await signUp(app, 'first@example.com');
    await signUp(app, 'second@example.com');
    const first = await logIn(app, 'first@example.com');
    const second = await logIn(app, 'second@example.com');
    assert.equal((await askChange(app, first, { new_email: 'prize@example.com' })).statusCode, 200);
    assert.equal(
      (await askChange(app, second, { new_email: 'prize@example.com' })).statusCode,
      200,
    );
    const tokens = (await mailsTo('prize@example.com')).map((mail) =>
      tokenOf(mail, '/confirm_email_change'),
    );
    assert.equal(tokens.length, 2);

    const answers = await Promise.all(tokens.map((token) => confirm(app, token)));
    const statuses = answers.map((answer) => answer.statusCode).sort();
    assert.deepEqual(statuses, [200, 409]);
    const loser = answers.find((answer) => answer.statusCode === 409);
    assert.equal(loser?.json<{ code: string }>().code, 'email_unavailable');
    const emails = [
      (await profile(app, first)).json<{ email?: string }>().email,
      (await profile(app, second)).json<{ email?: string }>().email,
    ].sort();
    // The winner's other sessions ended, but the one that asked stays.
    assert.ok(
      JSON.stringify(emails) === JSON.stringify(['prize@example.com', 'second@example.com']) ||
        JSON.stringify(emails) === JSON.stringify(['first@example.com', 'prize@example.com']),
      String(emails),
    );
  });

  test('the password is checked and counted like a login', async () => {
    const { app, delivered } = await withMail({
      RATE_LIMIT: 'on',
      LOGIN_THROTTLE_AFTER: '2',
      RATE_LIMIT_ACCOUNT: '1000/60',
      RATE_LIMIT_LOGIN: '1000/60',
      RATE_LIMIT_SIGNUP: '1000/60',
    });
    await signUp(app, 'careful@example.com');
    const session = await logIn(app, 'careful@example.com');
    const sent = (await delivered()).length;
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const wrong = await askChange(app, session, {
        password: 'not it at all',
        new_email: 'elsewhere@example.com',
      });
      assert.equal(wrong.statusCode, 401);
      assert.equal(wrong.json<{ code: string }>().code, 'wrong_password');
    }
    const throttled = await askChange(app, session, { new_email: 'elsewhere@example.com' });
    assert.equal(throttled.statusCode, 429);
    assert.equal((await delivered()).length, sent, 'nothing was mailed');
  });

  test('without a session, to a malformed or to its own address: refused, nothing mailed', async () => {
    const { app, delivered } = await withMail();
    await signUp(app, 'self@example.com');
    const session = await logIn(app, 'self@example.com');
    const sent = (await delivered()).length;
    const anonymous = await askChange(app, undefined, { new_email: 'x@example.com' });
    assert.equal(anonymous.statusCode, 403);
    assert.equal(anonymous.json<{ code: string }>().code, 'session_required');
    const malformed = await askChange(app, session, { new_email: 'not an address' });
    assert.equal(malformed.json<{ code: string }>().code, 'invalid_email');
    const own = await askChange(app, session, { new_email: 'SELF@example.com' });
    assert.equal(own.statusCode, 400);
    assert.equal(own.json<{ code: string }>().code, 'email_unchanged');
    assert.equal((await delivered()).length, sent);
  });

  test('a newer request replaces the older link; an expired link is refused', async () => {
    const { app, mailsTo, clock } = await withMail({ EMAIL_VERIFICATION_TTL: '600' });
    await signUp(app, 'twice@example.com');
    const session = await logIn(app, 'twice@example.com');
    await askChange(app, session, { new_email: 'one@example.com' });
    const older = tokenOf(single(await mailsTo('one@example.com')), '/confirm_email_change');
    await askChange(app, session, { new_email: 'two@example.com' });
    const newer = tokenOf(single(await mailsTo('two@example.com')), '/confirm_email_change');
    assert.equal((await confirm(app, older)).statusCode, 400);
    clock.advanceSeconds(600);
    assert.equal((await confirm(app, newer)).statusCode, 400);
    assert.equal(
      (await profile(app, session)).json<{ email: string }>().email,
      'twice@example.com',
    );
  });
});
