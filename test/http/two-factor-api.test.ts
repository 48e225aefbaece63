/**
 * Turning two-factor authentication on and off through the API, on the engine under test: POST
 * and DELETE /profile/totp, POST /profile/totp/confirm, POST /profile/recovery-codes and the
 * `two_factor` of GET /profile, with codes computed from the secret the answer gives and the
 * service's fake clock; its refusals, cross-site requests, and a server without a key.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { signUpAndLogIn, startTestService, type TestService } from '../support/service.js';
import { totpCodeAt } from '../support/totp.js';
import { logIn, PASSWORD, startWithDatabase } from '../support/two-factor.js';

const EMAIL = 'tess@example.com';
const HTTP_PASSWORD = 'correct horse';

interface Enrolment {
  secret: string;
  otpauth_url: string;
  qr_svg: string;
}

/** Sends JSON `payload` with the session `token` (none when undefined). */
function asUser(
  app: FastifyInstance,
  token: string | undefined,
  method: 'GET' | 'POST' | 'DELETE',
  url: string,
  payload?: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  const options: InjectOptions = {
    method,
    url,
    headers,
    ...(token !== undefined && { cookies: { session_id: token } }),
    ...(payload !== undefined && { payload }),
  };
  return app.inject(options);
}

const codeOf = (response: LightMyRequestResponse) => response.json<{ code: string }>().code;

async function twoFactorOf(app: FastifyInstance, token: string): Promise<boolean> {
  const profile = await asUser(app, token, 'GET', '/profile');
  assert.equal(profile.statusCode, 200, profile.body);
  return profile.json<{ two_factor: boolean }>().two_factor;
}

/** Begins and confirms over HTTP; returns the secret and the recovery codes. */
async function turnOn(service: TestService, token: string, password = HTTP_PASSWORD) {
  const begun = await asUser(service.app, token, 'POST', '/profile/totp', { password });
  assert.equal(begun.statusCode, 200, begun.body);
  const { secret } = begun.json<Enrolment>();
  const code = totpCodeAt(secret, service.clock.now());
  const confirmed = await asUser(service.app, token, 'POST', '/profile/totp/confirm', { code });
  assert.equal(confirmed.statusCode, 200, confirmed.body);
  // Past the confirming code's step, so that the next one is fresh.
  service.clock.advanceSeconds(60);
  return { secret, codes: confirmed.json<{ recovery_codes: string[] }>().recovery_codes };
}

describe('turning two-factor authentication on', () => {
  test('the secret, its URL and QR code, pending until a code confirms it; then ten recovery codes', async () => {
    const service = await startTestService();
    const { app, clock } = service;
    const token = await signUpAndLogIn(app, EMAIL, HTTP_PASSWORD);
    const other = await signUpAndLogIn(app, 'other@example.com', HTTP_PASSWORD);
    const elsewhere = await asUser(app, undefined, 'POST', '/sessions', {
      email: EMAIL,
      password: HTTP_PASSWORD,
    });
    const secondSession = elsewhere.cookies.find((cookie) => cookie.name === 'session_id')?.value;
    assert.ok(secondSession);
    assert.equal(await twoFactorOf(app, token), false);

    const begun = await asUser(app, token, 'POST', '/profile/totp', { password: HTTP_PASSWORD });
    assert.equal(begun.statusCode, 200, begun.body);
    const enrolment = begun.json<Enrolment>();
    assert.deepEqual(Object.keys(enrolment).sort(), ['otpauth_url', 'qr_svg', 'secret']);
    assert.match(enrolment.secret, /^[A-Z2-7]{32}$/);
    const url = new URL(enrolment.otpauth_url);
    assert.equal(url.protocol, 'otpauth:');
    assert.equal(url.searchParams.get('secret'), enrolment.secret);
    assert.match(enrolment.qr_svg, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.doesNotMatch(enrolment.qr_svg, /<script|on\w+=|href/i);
    assert.equal(await twoFactorOf(app, token), false, 'pending is not on');

    const wrong = await asUser(app, token, 'POST', '/profile/totp/confirm', { code: '000000' });
    assert.equal(wrong.statusCode, 400);
    assert.equal(codeOf(wrong), 'invalid_code');
    const nonsense = await asUser(app, token, 'POST', '/profile/totp/confirm', { code: 'abc' });
    assert.equal(codeOf(nonsense), 'invalid_code');
    assert.equal(await twoFactorOf(app, token), false);

    const code = totpCodeAt(enrolment.secret, clock.now());
    const confirmed = await asUser(app, token, 'POST', '/profile/totp/confirm', { code });
    assert.equal(confirmed.statusCode, 200, confirmed.body);
    const body = confirmed.json<{ message: string; recovery_codes: string[] }>();
    assert.equal(body.message, 'two-factor authentication enabled');
    assert.equal(body.recovery_codes.length, 10);
    assert.equal(new Set(body.recovery_codes).size, 10);
    for (const shown of body.recovery_codes)
      assert.match(shown, /^[2-9a-hjkmnp-z]{5}-[2-9a-hjkmnp-z]{5}$/);
    assert.equal(await twoFactorOf(app, token), true);
    assert.equal(await twoFactorOf(app, other), false, 'another account is untouched');
    const ended = await asUser(app, secondSession, 'GET', '/profile');
    assert.equal(ended.statusCode, 403, 'the account’s other session ended');

    // Now on: beginning again and confirming again are refused, the factor stays.
    const again = await asUser(app, token, 'POST', '/profile/totp', { password: HTTP_PASSWORD });
    assert.equal(again.statusCode, 409);
    assert.equal(codeOf(again), 'two_factor_already_enabled');
    const reconfirm = await asUser(app, token, 'POST', '/profile/totp/confirm', { code });
    assert.equal(codeOf(reconfirm), 'two_factor_not_pending');
    assert.equal(await twoFactorOf(app, token), true);
  });

  test('refusals: no session, a wrong password, missing fields, nothing pending', async () => {
    const { app } = await startTestService();
    const token = await signUpAndLogIn(app, EMAIL, HTTP_PASSWORD);
    const anonymous = await asUser(app, undefined, 'POST', '/profile/totp', {
      password: HTTP_PASSWORD,
    });
    assert.equal(anonymous.statusCode, 403);
    assert.equal(codeOf(anonymous), 'session_required');
    const wrong = await asUser(app, token, 'POST', '/profile/totp', { password: 'not it at all' });
    assert.equal(wrong.statusCode, 401);
    assert.equal(codeOf(wrong), 'wrong_password');
    const missing = await asUser(app, token, 'POST', '/profile/totp', {});
    assert.equal(missing.statusCode, 400);
    assert.equal(codeOf(missing), 'missing_field');
    const long = await asUser(app, token, 'POST', '/profile/totp/confirm', {
      code: '1'.repeat(65),
    });
    assert.equal(codeOf(long), 'field_too_long');
    const nothing = await asUser(app, token, 'POST', '/profile/totp/confirm', { code: '123456' });
    assert.equal(nothing.statusCode, 409);
    assert.equal(codeOf(nothing), 'two_factor_not_pending');
    const off = await asUser(app, token, 'DELETE', '/profile/totp', {
      password: HTTP_PASSWORD,
      code: '123456',
    });
    assert.equal(codeOf(off), 'two_factor_not_enabled');
    const codes = await asUser(app, token, 'POST', '/profile/recovery-codes', {
      password: HTTP_PASSWORD,
    });
    assert.equal(codeOf(codes), 'two_factor_not_enabled');
    assert.equal(await twoFactorOf(app, token), false);
  });
});

describe('recovery codes and turning it off', () => {
  test('new codes replace the old; off with a TOTP code', async () => {
    const service = await startTestService();
    const { app, clock } = service;
    const token = await signUpAndLogIn(app, EMAIL, HTTP_PASSWORD);
    const { secret, codes } = await turnOn(service, token);

    const wrong = await asUser(app, token, 'POST', '/profile/recovery-codes', {
      password: 'not it at all',
    });
    assert.equal(codeOf(wrong), 'wrong_password');
    const replaced = await asUser(app, token, 'POST', '/profile/recovery-codes', {
      password: HTTP_PASSWORD,
    });
    assert.equal(replaced.statusCode, 200, replaced.body);
    const fresh = replaced.json<{ recovery_codes: string[] }>().recovery_codes;
    assert.equal(fresh.length, 10);
    assert.ok(fresh.every((shown) => !codes.includes(shown)));

    // An old code no longer turns it off; a wrong password neither, even with a right code.
    const old = await asUser(app, token, 'DELETE', '/profile/totp', {
      password: HTTP_PASSWORD,
      code: codes[0] ?? '',
    });
    assert.equal(old.statusCode, 400);
    assert.equal(codeOf(old), 'invalid_code');
    const badPassword = await asUser(app, token, 'DELETE', '/profile/totp', {
      password: 'not it at all',
      code: totpCodeAt(secret, clock.now()),
    });
    assert.equal(codeOf(badPassword), 'wrong_password');
    assert.equal(await twoFactorOf(app, token), true);

    const off = await asUser(app, token, 'DELETE', '/profile/totp', {
      password: HTTP_PASSWORD,
      code: totpCodeAt(secret, clock.now()),
    });
    assert.equal(off.statusCode, 200, off.body);
    assert.deepEqual(off.json(), { message: 'two-factor authentication disabled' });
    assert.equal(await twoFactorOf(app, token), false);
    // Off for good: the next login needs no code, and it can be turned on again afresh.
    const begun = await asUser(app, token, 'POST', '/profile/totp', { password: HTTP_PASSWORD });
    assert.equal(begun.statusCode, 200);
    assert.notEqual(begun.json<Enrolment>().secret, secret);
  });

  test('off with a recovery code, typed in capitals without its dash', async () => {
    const service = await startTestService();
    const { app } = service;
    const token = await signUpAndLogIn(app, EMAIL, HTTP_PASSWORD);
    const { codes } = await turnOn(service, token);
    const typed = (codes[3] ?? '').replace('-', '').toUpperCase();
    const off = await asUser(app, token, 'DELETE', '/profile/totp', {
      password: HTTP_PASSWORD,
      code: typed,
    });
    assert.equal(off.statusCode, 200, off.body);
    assert.equal(await twoFactorOf(app, token), false);
    const events = await service.admin.events({ email: EMAIL, limit: 50 });
    const types = events.map((event) => event.type);
    assert.ok(types.includes('recovery_code_used'));
    assert.ok(types.includes('totp_disabled'));
  });
});

describe('protection', () => {
  test('a cross-site request is refused before it changes anything', async () => {
    const service = await startTestService();
    const { app } = service;
    const token = await signUpAndLogIn(app, EMAIL, HTTP_PASSWORD);
    const evil = { origin: 'https://evil.example' };
    const begun = await asUser(
      app,
      token,
      'POST',
      '/profile/totp',
      { password: HTTP_PASSWORD },
      evil,
    );
    assert.equal(begun.statusCode, 403);
    assert.equal(codeOf(begun), 'cross_site_request');
    const confirm = await asUser(app, token, 'POST', '/profile/totp/confirm', { code: '123456' });
    assert.equal(codeOf(confirm), 'two_factor_not_pending', 'nothing was begun');

    const { secret } = await turnOn(service, token);
    const crossSite = { 'sec-fetch-site': 'cross-site' };
    const off = await asUser(
      app,
      token,
      'DELETE',
      '/profile/totp',
      { password: HTTP_PASSWORD, code: totpCodeAt(secret, service.clock.now()) },
      crossSite,
    );
    assert.equal(off.statusCode, 403);
    assert.equal(codeOf(off), 'cross_site_request');
    const codes = await asUser(
      app,
      token,
      'POST',
      '/profile/recovery-codes',
      { password: HTTP_PASSWORD },
      crossSite,
    );
    assert.equal(codeOf(codes), 'cross_site_request');
    assert.equal(await twoFactorOf(app, token), true);
  });

  test('without a key, turning it on is 503 two_factor_unavailable, and nothing else breaks', async () => {
    const { service } = await startWithDatabase({ key: false });
    await service.auth.registerUser(EMAIL, PASSWORD);
    const token = await logIn(service, EMAIL);
    const begun = await asUser(service.app, token, 'POST', '/profile/totp', {
      password: PASSWORD,
    });
    assert.equal(begun.statusCode, 503);
    assert.equal(codeOf(begun), 'two_factor_unavailable');
    const confirm = await asUser(service.app, token, 'POST', '/profile/totp/confirm', {
      code: '123456',
    });
    assert.equal(confirm.statusCode, 503);
    assert.equal(await twoFactorOf(service.app, token), false);
  });
});
