/**
 * The pages of proven addresses through inject(), on the engine under test, as a browser without
 * JavaScript uses them: the account page's state, resend button and "Change email" form with its
 * errors, the pages the links open (incomplete, spent, contested), and the cross-site check.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { form, signUpAndLogIn, startTestService } from '../support/service.js';

const PASSWORD = 'correct horse';
const SAME_ORIGIN = { origin: 'http://auth.test' };

function pagePost(
  app: FastifyInstance,
  url: string,
  fields: Record<string, string>,
  session?: string,
) {
  return app.inject({
    method: 'POST',
    url,
    headers: { ...form(fields).headers, ...SAME_ORIGIN },
    payload: form(fields).payload,
    ...(session !== undefined && { cookies: { session_id: session } }),
  });
}

const accountPage = (app: FastifyInstance, session: string) =>
  app.inject({ url: '/account', cookies: { session_id: session } });

/** The token of the newest link to `path` the recording mailer holds. */
async function tokenIn(service: Awaited<ReturnType<typeof startTestService>>, path: string) {
  await service.auth.drain();
  const text = service.mailer.sent
    .map((mail) => mail.text)
    .reverse()
    .find((t) => t.includes(path));
  const token = new RegExp(`${path}\\?token=(\\S+)`).exec(text ?? '')?.[1];
  assert.ok(token, `a ${path} link was mailed`);
  return token;
}

describe('the account page’s address section', () => {
  test('unverified: says so, with a button that sends the link again; verified: says so', async () => {
    const service = await startTestService({ EMAIL_VERIFICATION: 'optional' });
    const { app } = service;
    const session = await signUpAndLogIn(app, 'ann@example.com', PASSWORD);
    const before = await accountPage(app, session);
    assert.match(before.body, /<strong class="email-state">not verified<\/strong>/);
    assert.match(before.body, /action="\/verify\/resend"/);
    assert.match(before.body, /Change email/);

    const sent = service.mailer.sent.length;
    const resent = await pagePost(app, '/verify/resend', { email: 'ann@example.com' });
    assert.equal(resent.statusCode, 200);
    assert.match(resent.body, /Check your inbox/);
    const token = await tokenIn(service, '/verify_email');
    assert.equal(service.mailer.sent.length, sent + 1);
    assert.equal(
      (await pagePost(app, '/verify', { token }, session)).headers.location,
      '/account?notice=email_verified',
    );

    const after = await app.inject({
      url: '/account?notice=email_verified',
      cookies: { session_id: session },
    });
    assert.match(after.body, /Your email address is verified/);
    assert.match(after.body, /<strong class="email-state">verified<\/strong>/);
    assert.doesNotMatch(after.body, /action="\/verify\/resend"/);
  });

  test('with EMAIL_VERIFICATION=off there is no resend button', async () => {
    const { app } = await startTestService({ EMAIL_VERIFICATION: 'off' });
    const session = await signUpAndLogIn(app, 'off@example.com', PASSWORD);
    const page = await accountPage(app, session);
    assert.match(page.body, /not verified/);
    assert.doesNotMatch(page.body, /action="\/verify\/resend"/);
  });

  test('the change form shows its errors beside its fields, and changes nothing', async () => {
    const service = await startTestService({ EMAIL_VERIFICATION: 'optional' });
    const { app } = service;
    const session = await signUpAndLogIn(app, 'cal@example.com', PASSWORD);
    const empty = await pagePost(app, '/account/email', {}, session);
    assert.equal(empty.statusCode, 400);
    assert.match(empty.body, /Enter the new email address/);
    assert.match(empty.body, /<title>Error: /);
    const own = await pagePost(
      app,
      '/account/email',
      { new_email: 'CAL@example.com', password: PASSWORD },
      session,
    );
    assert.equal(own.statusCode, 400);
    assert.match(own.body, /already the account’s address/);
    const wrong = await pagePost(
      app,
      '/account/email',
      { new_email: 'cal@new.example', password: 'not mine' },
      session,
    );
    assert.equal(wrong.statusCode, 401);
    assert.match(wrong.body, /This is not your password/);
    const bad = await pagePost(
      app,
      '/account/email',
      { new_email: 'nope', password: PASSWORD },
      session,
    );
    assert.equal(bad.statusCode, 400);
    await service.auth.drain();
    assert.ok(
      service.mailer.sent.every((mail) => mail.to === 'cal@example.com'),
      'no new address mailed',
    );
    const anonymous = await pagePost(app, '/account/email', {
      new_email: 'x@example.com',
      password: PASSWORD,
    });
    assert.equal(anonymous.statusCode, 303);
    assert.equal(anonymous.headers.location, '/login');
  });
});

describe('the pages the links open', () => {
  test('a link without its token says it is incomplete and offers what to do', async () => {
    const { app } = await startTestService({ EMAIL_VERIFICATION: 'optional' });
    const html = { accept: 'text/html' };
    const verify = await app.inject({ url: '/verify_email', headers: html });
    assert.equal(verify.statusCode, 200);
    assert.match(verify.body, /incomplete/);
    assert.match(verify.body, /Ask for a new link/);
    const change = await app.inject({ url: '/confirm_email_change', headers: html });
    assert.match(change.body, /incomplete/);
    const long = await app.inject({ url: `/verify_email?token=${'a'.repeat(500)}`, headers: html });
    assert.doesNotMatch(long.body, /aaaaaaaa/, 'an overlong token is not echoed');
  });

  test('a contested change shows that the address is taken now (409)', async () => {
    const service = await startTestService({ EMAIL_VERIFICATION: 'optional' });
    const { app, auth } = service;
    const session = await signUpAndLogIn(app, 'dee@example.com', PASSWORD);
    const asked = await pagePost(
      app,
      '/account/email',
      { new_email: 'wanted@example.com', password: PASSWORD },
      session,
    );
    assert.equal(asked.statusCode, 303);
    const token = await tokenIn(service, '/confirm_email_change');
    await auth.addUser('wanted@example.com', PASSWORD);
    const contested = await pagePost(app, '/confirm_email', { token });
    assert.equal(contested.statusCode, 409);
    assert.match(contested.body, /belongs to another account now/);
    const spent = await pagePost(app, '/confirm_email', { token });
    assert.equal(spent.statusCode, 400);
  });

  test('the buttons’ posts are refused from another site', async () => {
    const { app } = await startTestService({ EMAIL_VERIFICATION: 'optional' });
    for (const url of ['/verify', '/confirm_email', '/verify/resend']) {
      const answer = await app.inject({
        method: 'POST',
        url,
        headers: {
          ...form({}).headers,
          origin: 'https://evil.example',
          'sec-fetch-site': 'cross-site',
        },
        payload: form({ token: crypto.randomUUID(), email: 'x@example.com' }).payload,
      });
      assert.equal(answer.statusCode, 403, url);
    }
  });
});
