/**
 * The login pages with two-factor authentication on, through inject() on both engines: the login
 * form leads to the code page holding the challenge cookie, the code page's field is made for a
 * one-time code (with a recovery code instead by a link), errors show next to the field, and a
 * right code leads on to `rd` or /account.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { form, sessionCookie } from '../support/service.js';
import { totpCodeAt } from '../support/totp.js';
import { enrolled, PASSWORD } from '../support/two-factor.js';

const ORIGIN = { origin: 'http://auth.test' };

function post(app: FastifyInstance, url: string, fields: Record<string, string>, cookie = '') {
  const body = form(fields);
  return app.inject({
    method: 'POST',
    url,
    headers: { ...body.headers, ...ORIGIN, ...(cookie !== '' && { cookie }) },
    payload: body.payload,
  });
}

/** Posts the login form with the right password; returns where it leads and the cookie. */
async function logInForm(app: FastifyInstance, extra: Record<string, string> = {}) {
  const response = await post(app, '/login', {
    email: 'bob@example.com',
    password: PASSWORD,
    ...extra,
  });
  assert.equal(response.statusCode, 303, response.body);
  assert.equal(sessionCookie(response), undefined, 'no session before the code');
  const challenge = response.cookies.find((cookie) => cookie.name === 'bienvenue_2fa');
  assert.ok(challenge);
  return {
    location: String(response.headers.location),
    cookie: `bienvenue_2fa=${challenge.value}`,
  };
}

describe('the login pages with the second factor on', () => {
  test('the login form leads to the code page, whose code leads to /account', async () => {
    const { service, secret } = await enrolled();
    const { app, clock } = service;
    const { location, cookie } = await logInForm(app);
    assert.equal(location, '/login/code');

    const page = await app.inject({ url: location, headers: { cookie } });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /autocomplete="one-time-code"/);
    assert.match(page.body, /inputmode="numeric"/);
    assert.match(page.body, /href="\/login\/code\?recovery=1"/);

    const done = await post(app, '/login/code', { code: totpCodeAt(secret, clock.now()) }, cookie);
    assert.equal(done.statusCode, 303, done.body);
    assert.equal(done.headers.location, '/account');
    assert.ok(sessionCookie(done));
    assert.equal(done.cookies.find((c) => c.name === 'bienvenue_2fa')?.value, '');
  });

  test('a wrong code is shown next to the field, and the page stays', async () => {
    const { service, secret } = await enrolled();
    const { app, clock } = service;
    const { cookie } = await logInForm(app);
    const right = totpCodeAt(secret, clock.now());
    const wrong = right === '000000' ? '000001' : '000000';
    const refused = await post(app, '/login/code', { code: wrong }, cookie);
    assert.equal(refused.statusCode, 401);
    assert.match(refused.body, /id="second-factor-code-error"/);
    assert.match(refused.body, /aria-invalid="true"/);
    assert.equal(sessionCookie(refused), undefined);
    const empty = await post(app, '/login/code', { code: '' }, cookie);
    assert.equal(empty.statusCode, 400);
    assert.match(empty.body, /Enter the code from your app/);
  });

  test('a recovery code, through the link, and rd carried through', async () => {
    const { service, codes } = await enrolled();
    const { app } = service;
    const rd = 'http://auth.test/account?from=app';
    const { location, cookie } = await logInForm(app, { rd });
    assert.equal(location, `/login/code?rd=${encodeURIComponent(rd)}`);
    const recoveryPage = await app.inject({
      url: `/login/code?recovery=1&rd=${encodeURIComponent(rd)}`,
      headers: { cookie },
    });
    assert.match(recoveryPage.body, /Recovery code/);
    assert.match(recoveryPage.body, /name="recovery" value="1"/);
    const done = await post(
      app,
      '/login/code',
      { code: codes[0] ?? '', recovery: '1', rd },
      cookie,
    );
    assert.equal(done.statusCode, 303, done.body);
    assert.equal(done.headers.location, rd);
  });

  test('without a live challenge, the login page again says why', async () => {
    const { service, secret } = await enrolled();
    const { app, clock } = service;
    const { cookie } = await logInForm(app);
    clock.advanceSeconds(301);
    const late = await post(app, '/login/code', { code: totpCodeAt(secret, clock.now()) }, cookie);
    assert.equal(late.statusCode, 401);
    assert.match(late.body, /log in again/);
    assert.match(late.body, /action="\/login"/);
    assert.equal(sessionCookie(late), undefined);
  });
});
