/**
 * A login waiting for its second factor does not outlive what changes the account's credentials,
 * on the engine under test: after a password reset, a password change or turning the factor off,
 * a challenge cookie taken before is refused, even with a right code (the operator's reset: see
 * test/cli/two-factor.test.ts). A new login then works as the account now is.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { sessionCookie, submit } from '../support/service.js';
import { totpCodeAt } from '../support/totp.js';
import { enrolled, PASSWORD, type Enrolled } from '../support/two-factor.js';

const EMAIL = 'bob@example.com';
const NEW_PASSWORD = 'a brand new passphrase';

/** POST /sessions with `password`; returns the challenge cookie it sets (asserting one). */
async function challengeFor(app: FastifyInstance, password = PASSWORD): Promise<string> {
  const response = await submit(app, 'POST', '/sessions', { email: EMAIL, password });
  assert.equal(response.statusCode, 401, response.body);
  assert.equal(response.json<{ code: string }>().code, 'second_factor_required');
  const challenge = response.cookies.find((cookie) => cookie.name === 'bienvenue_2fa');
  assert.ok(challenge, 'a challenge cookie');
  return challenge.value;
}

function secondStep(app: FastifyInstance, challenge: string, code: string) {
  return app.inject({
    method: 'POST',
    url: '/sessions/second-factor',
    payload: { code },
    cookies: { bienvenue_2fa: challenge },
  });
}

/** A right code of the app, of a step not used yet (each call moves the clock a step on). */
function freshCode({ service, secret }: Enrolled): string {
  service.clock.advanceSeconds(30);
  return totpCodeAt(secret, service.clock.now());
}

/** Asserts that `response` refuses the challenge as expired, with no session. */
function assertExpired(response: LightMyRequestResponse): void {
  assert.equal(response.statusCode, 401, response.body);
  assert.equal(response.json<{ code: string }>().code, 'second_factor_expired');
  assert.equal(sessionCookie(response), undefined, 'no session');
}

describe('pending logins end with the credentials they began with', () => {
  test('a password reset ends them; the factor stays on for the new password', async () => {
    const setup = await enrolled();
    const { app, auth } = setup.service;
    const before = await challengeFor(app);
    const resetToken = await auth.getResetPasswordToken(EMAIL);
    const reset = await app.inject({
      method: 'PUT',
      url: '/reset_password',
      payload: { email: EMAIL, reset_token: resetToken, new_password: NEW_PASSWORD },
    });
    assert.equal(reset.statusCode, 200, reset.body);

    assertExpired(await secondStep(app, before, freshCode(setup)));
    // A stolen mailbox is not enough: the new password still asks for a code.
    const after = await challengeFor(app, NEW_PASSWORD);
    const done = await secondStep(app, after, freshCode(setup));
    assert.equal(done.statusCode, 200, done.body);
  });

  test('a password change ends them', async () => {
    const setup = await enrolled();
    const { app } = setup.service;
    const before = await challengeFor(app);
    const change = await app.inject({
      method: 'PUT',
      url: '/profile/password',
      cookies: { session_id: setup.token },
      payload: { current_password: PASSWORD, new_password: NEW_PASSWORD },
    });
    assert.equal(change.statusCode, 200, change.body);

    assertExpired(await secondStep(app, before, freshCode(setup)));
    const after = await challengeFor(app, NEW_PASSWORD);
    assert.equal((await secondStep(app, after, freshCode(setup))).statusCode, 200);
  });

  test('turning the factor off ends them; the password alone then logs in', async () => {
    const setup = await enrolled();
    const { app } = setup.service;
    const before = await challengeFor(app);
    const off = await app.inject({
      method: 'DELETE',
      url: '/profile/totp',
      cookies: { session_id: setup.token },
      payload: { password: PASSWORD, code: freshCode(setup) },
    });
    assert.equal(off.statusCode, 200, off.body);

    assertExpired(await secondStep(app, before, setup.codes[0] ?? ''));
    const login = await submit(app, 'POST', '/sessions', { email: EMAIL, password: PASSWORD });
    assert.equal(login.statusCode, 200, login.body);
  });

  test('a refused reset or change leaves them alone', async () => {
    const setup = await enrolled();
    const { app } = setup.service;
    const before = await challengeFor(app);
    const reset = await app.inject({
      method: 'PUT',
      url: '/reset_password',
      payload: {
        email: EMAIL,
        reset_token: '00000000-0000-4000-8000-000000000000',
        new_password: NEW_PASSWORD,
      },
    });
    assert.equal(reset.statusCode, 403, reset.body);
    const change = await app.inject({
      method: 'PUT',
      url: '/profile/password',
      cookies: { session_id: setup.token },
      payload: { current_password: 'not the password', new_password: NEW_PASSWORD },
    });
    assert.equal(change.statusCode, 401, change.body);

    const done = await secondStep(app, before, freshCode(setup));
    assert.equal(done.statusCode, 200, done.body);
  });
});
