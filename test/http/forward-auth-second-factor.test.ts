/**
 * Forward auth and the second factor, through inject() on both engines (/auth/forward, and
 * /auth/request as nginx asks): `Remote-Auth` says how
 * the session logged in, and a rule with `second_factor: true` refuses sessions made with the
 * password alone (403 `second_factor_required`, a page for a browser), but not those made with a
 * code or a recovery code.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { askForward, askRequest, rulesFile } from '../support/forward-auth.js';
import { sessionCookie, submit } from '../support/service.js';
import { totpCodeAt } from '../support/totp.js';
import { enrolled, logIn, PASSWORD } from '../support/two-factor.js';

const RULES = `rules:
  - host: admin.example.test
    policy: [bob@example.com, carol@example.com]
    second_factor: true
  - host: wiki.example.test
    policy: logged_in
`;

/** Logs in through the API with the password and `code`; returns the session cookie. */
async function logInWithCode(app: FastifyInstance, code: string): Promise<string> {
  const first = await submit(app, 'POST', '/sessions', {
    email: 'bob@example.com',
    password: PASSWORD,
  });
  const challenge = first.cookies.find((cookie) => cookie.name === 'bienvenue_2fa')?.value;
  assert.ok(challenge, first.body);
  const second = await app.inject({
    method: 'POST',
    url: '/sessions/second-factor',
    payload: { code },
    cookies: { bienvenue_2fa: challenge },
  });
  const session = sessionCookie(second);
  assert.ok(session, second.body);
  return session;
}

async function withRules() {
  const setup = await enrolled({ env: { ACCESS_RULES_FILE: rulesFile(RULES) } });
  // An account without the factor, on the same rules.
  await setup.service.auth.registerUser('carol@example.com', PASSWORD);
  return setup;
}

describe('forward auth and the second factor', () => {
  test('Remote-Auth says password, totp or recovery_code', async () => {
    const { service, secret, codes, token } = await withRules();
    const { app, clock } = service;
    // The session opened before the factor was on was made with the password alone.
    const byPassword = await askForward(app, 'wiki.example.test', token);
    assert.equal(byPassword.statusCode, 200);
    assert.equal(byPassword.headers['remote-auth'], 'password');

    const byTotp = await askForward(
      app,
      'wiki.example.test',
      await logInWithCode(app, totpCodeAt(secret, clock.now())),
    );
    assert.equal(byTotp.headers['remote-auth'], 'totp');
    assert.equal(byTotp.headers['remote-user'], 'bob@example.com');

    const byRecovery = await askForward(
      app,
      'wiki.example.test',
      await logInWithCode(app, codes[0] ?? ''),
    );
    assert.equal(byRecovery.headers['remote-auth'], 'recovery_code');
  });

  test('a second_factor rule refuses password-only sessions with 403, and admits the others', async () => {
    const { service, secret, token } = await withRules();
    const { app, clock } = service;
    const refused = await askForward(app, 'admin.example.test', token);
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.json<{ code: string }>().code, 'second_factor_required');
    assert.equal(refused.headers['remote-user'], undefined, 'no identity with a refusal');

    const carol = await logIn(service, 'carol@example.com');
    const carolRefused = await askForward(app, 'admin.example.test', carol);
    assert.equal(carolRefused.statusCode, 403);
    assert.equal(carolRefused.json<{ code: string }>().code, 'second_factor_required');
    assert.equal((await askForward(app, 'wiki.example.test', carol)).statusCode, 200);

    const withCode = await logInWithCode(app, totpCodeAt(secret, clock.now()));
    const admitted = await askForward(app, 'admin.example.test', withCode);
    assert.equal(admitted.statusCode, 200);
    assert.equal(admitted.headers['remote-auth'], 'totp');
  });

  test('/auth/request says Remote-Auth too, and keeps the second_factor rule', async () => {
    const { service, secret, token } = await withRules();
    const { app, clock } = service;
    const byPassword = await askRequest(app, 'wiki.example.test', token);
    assert.equal(byPassword.statusCode, 200);
    assert.equal(byPassword.headers['remote-auth'], 'password');
    const refused = await askRequest(app, 'admin.example.test', token);
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.json<{ code: string }>().code, 'second_factor_required');
    assert.equal(refused.headers['remote-user'], undefined);

    const withCode = await logInWithCode(app, totpCodeAt(secret, clock.now()));
    const admitted = await askRequest(app, 'admin.example.test', withCode);
    assert.equal(admitted.statusCode, 200);
    assert.equal(admitted.headers['remote-auth'], 'totp');
    assert.equal(admitted.headers['remote-user'], 'bob@example.com');
  });

  test('a browser gets a page that says so, with a link to the account page', async () => {
    const { service, token } = await withRules();
    const page = await askForward(service.app, 'admin.example.test', token, {
      accept: 'text/html',
    });
    assert.equal(page.statusCode, 403);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(page.body, /Two-factor authentication required/);
    assert.match(page.body, /href="http:\/\/auth\.test\/account"/);
  });
});
