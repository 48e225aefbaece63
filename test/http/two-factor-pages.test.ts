/**
 * Two-factor authentication on the account page, through its plain forms, on the engine under
 * test: turning it on (the QR code and the secret as text, then the first code), the recovery
 * codes shown once, the codes left, new codes, turning it off; refusals next to their fields,
 * posts from elsewhere refused, and a server without a key.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { form, signUpAndLogIn, startTestService } from '../support/service.js';
import { totpCodeAt } from '../support/totp.js';
import { logIn, PASSWORD, startWithDatabase } from '../support/two-factor.js';

const EMAIL = 'page@example.com';
const HTTP_PASSWORD = 'correct horse';
/** What a browser sends with a form post from one of our pages. */
const OWN_PAGE = { origin: 'http://auth.test', accept: 'text/html' };
const RECOVERY_CODE = /<code>([2-9a-hjkmnp-z]{5}-[2-9a-hjkmnp-z]{5})<\/code>/g;

function post(
  app: FastifyInstance,
  token: string,
  url: string,
  fields: Record<string, string>,
  headers: Record<string, string> = OWN_PAGE,
): Promise<LightMyRequestResponse> {
  const body = form(fields);
  return app.inject({
    method: 'POST',
    url,
    cookies: { session_id: token },
    payload: body.payload,
    headers: { ...body.headers, ...headers },
  });
}

const accountPage = async (app: FastifyInstance, token: string) => {
  const page = await app.inject({
    method: 'GET',
    url: '/account',
    cookies: { session_id: token },
    headers: { accept: 'text/html' },
  });
  assert.equal(page.statusCode, 200, page.body);
  return page.body;
};

const codesIn = (body: string) => [...body.matchAll(RECOVERY_CODE)].map((match) => match[1]);

describe('the account page’s two-factor forms', () => {
  test('turn it on with the QR code or the secret, see the codes once, make new ones, turn it off', async () => {
    const service = await startTestService();
    const { app, clock } = service;
    const token = await signUpAndLogIn(app, EMAIL, HTTP_PASSWORD);
    let account = await accountPage(app, token);
    assert.match(account, /Two-factor authentication is <span class="state">off<\/span>/);
    assert.match(account, /action="\/account\/totp"/);

    const wrong = await post(app, token, '/account/totp', { password: 'not it at all' });
    assert.equal(wrong.statusCode, 401);
    assert.match(wrong.body, /This is not your password/);
    assert.match(wrong.body, /id="totp-on-password"[^>]*aria-invalid="true"/);

    const setup = await post(app, token, '/account/totp', { password: HTTP_PASSWORD });
    assert.equal(setup.statusCode, 200, setup.body);
    assert.match(String(setup.headers['content-security-policy']), /script-src 'self'/);
    assert.doesNotMatch(setup.body, /<script/i);
    assert.match(setup.body, /<div class="qr"><svg role="img" aria-label="QR code[^"]*"/);
    const secret = /<code class="secret" id="totp-secret">([A-Z2-7]+)<\/code>/.exec(
      setup.body,
    )?.[1];
    assert.ok(secret, 'the secret is shown as text');
    assert.match(setup.body, /autocomplete="one-time-code"/);
    assert.match(setup.body, /inputmode="numeric"/);
    assert.equal(await twoFactorOn(app, token), false, 'pending until confirmed');

    const wrongCode = await post(app, token, '/account/totp/confirm', { code: '000000' });
    assert.equal(wrongCode.statusCode, 400);
    assert.match(wrongCode.body, /This code is not right/);
    assert.ok(!wrongCode.body.includes(secret), 'the secret is shown only once');

    const confirmed = await post(app, token, '/account/totp/confirm', {
      code: totpCodeAt(secret, clock.now()),
    });
    assert.equal(confirmed.statusCode, 200, confirmed.body);
    const codes = codesIn(confirmed.body);
    assert.equal(codes.length, 10);
    assert.match(confirmed.body, /shown only now/);
    assert.equal(await twoFactorOn(app, token), true);

    account = await accountPage(app, token);
    assert.match(account, /Two-factor authentication is <span class="state">on<\/span>/);
    assert.match(account, /10 recovery codes left/);
    assert.deepEqual(codesIn(account), [], 'the codes are not shown again');
    assert.ok(!account.includes(secret));

    // One used at a login: the page counts what is left.
    const [used] = codes;
    assert.ok(used);
    const { id } = await service.admin.showUser(EMAIL);
    assert.equal(await service.auth.twoFactor.verifySecondStep(id, used), 'recovery_code');
    assert.match(await accountPage(app, token), /9 recovery codes left/);

    const badRenew = await post(app, token, '/account/recovery-codes', { password: 'nope nope' });
    assert.equal(badRenew.statusCode, 401);
    assert.match(badRenew.body, /id="codes-password"[^>]*aria-invalid="true"/);
    const renewed = await post(app, token, '/account/recovery-codes', { password: HTTP_PASSWORD });
    assert.equal(renewed.statusCode, 200, renewed.body);
    const fresh = codesIn(renewed.body);
    assert.equal(fresh.length, 10);
    assert.ok(fresh.every((code) => !codes.includes(code)));
    assert.match(await accountPage(app, token), /10 recovery codes left/);

    clock.advanceSeconds(60);
    const badOff = await post(app, token, '/account/totp/disable', {
      password: HTTP_PASSWORD,
      code: codes[1] ?? '',
    });
    assert.equal(badOff.statusCode, 400, 'an old recovery code');
    assert.match(badOff.body, /id="totp-off-code"[^>]*aria-invalid="true"/);
    assert.equal(await twoFactorOn(app, token), true);
    const off = await post(app, token, '/account/totp/disable', {
      password: HTTP_PASSWORD,
      code: totpCodeAt(secret, clock.now()),
    });
    assert.equal(off.statusCode, 303, off.body);
    assert.equal(off.headers.location, '/account?notice=two_factor_off');
    assert.equal(await twoFactorOn(app, token), false);
    assert.match(await accountPage(app, token), /<span class="state">off<\/span>/);
  });

  test('a post from another site changes nothing', async () => {
    const { app } = await startTestService();
    const token = await signUpAndLogIn(app, EMAIL, HTTP_PASSWORD);
    const elsewhere = await post(
      app,
      token,
      '/account/totp',
      { password: HTTP_PASSWORD },
      { accept: 'text/html' },
    );
    assert.equal(elsewhere.statusCode, 403);
    assert.doesNotMatch(elsewhere.body, /totp-secret/);
    const confirm = await post(app, token, '/account/totp/confirm', { code: '123456' });
    assert.equal(confirm.statusCode, 303, 'nothing is pending');
    assert.equal(confirm.headers.location, '/account');
  });

  test('without a session, the forms lead to the login page', async () => {
    const { app } = await startTestService();
    for (const url of ['/account/totp', '/account/recovery-codes', '/account/totp/disable']) {
      const answer = await post(app, 'no such session', url, { password: 'x', code: '123456' });
      assert.equal(answer.statusCode, 303, url);
      assert.equal(answer.headers.location, '/login', url);
    }
  });

  test('without a key, the page says it is not available and offers no form', async () => {
    const { service } = await startWithDatabase({ key: false });
    await service.auth.registerUser(EMAIL, PASSWORD);
    const token = await logIn(service, EMAIL);
    const page = await accountPage(service.app, token);
    assert.match(page, /not available on this server/);
    assert.doesNotMatch(page, /action="\/account\/totp"/);
    const begun = await post(service.app, token, '/account/totp', { password: PASSWORD });
    assert.equal(begun.statusCode, 503);
    assert.match(String(begun.headers['content-type']), /text\/html/);
  });
});

async function twoFactorOn(app: FastifyInstance, token: string): Promise<boolean> {
  const profile = await app.inject({
    method: 'GET',
    url: '/profile',
    cookies: { session_id: token },
  });
  return profile.json<{ two_factor: boolean }>().two_factor;
}
