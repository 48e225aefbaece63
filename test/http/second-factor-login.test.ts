/**
 * Logging in with the second factor through the API, on the engine under test: the password
 * answers 401 `second_factor_required` with the challenge cookie and no session; a code with that
 * cookie opens the session; wrong codes, a spent or expired challenge, concurrent codes, and the
 * login throttle, which counts codes like passwords.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { sessionCookie, submit } from '../support/service.js';
import { totpCodeAt } from '../support/totp.js';
import { auditTypes, enrolled, PASSWORD } from '../support/two-factor.js';

const EMAIL = 'bob@example.com';

function challengeOf(response: LightMyRequestResponse) {
  return response.cookies.find((cookie) => cookie.name === 'bienvenue_2fa');
}

/** POST /sessions with the right password; asserts the second step is asked for. */
async function passwordStep(app: FastifyInstance, password = PASSWORD): Promise<string> {
  const response = await submit(app, 'POST', '/sessions', { email: EMAIL, password });
  assert.equal(response.statusCode, 401, response.body);
  assert.equal(response.json<{ code: string }>().code, 'second_factor_required');
  const challenge = challengeOf(response);
  assert.ok(challenge, 'the challenge cookie is set');
  return challenge.value;
}

function secondStep(app: FastifyInstance, challenge: string | undefined, code: string) {
  return app.inject({
    method: 'POST',
    url: '/sessions/second-factor',
    payload: { code },
    ...(challenge !== undefined && { cookies: { bienvenue_2fa: challenge } }),
  });
}

const codeOf = (response: LightMyRequestResponse) => response.json<{ code?: string }>().code;

/** A code of the step after `code`'s at the current time, different from it. */
function wrongCode(secret: string, now: number): string {
  const right = new Set([-1, 0, 1].map((step) => totpCodeAt(secret, now + step * 30_000)));
  for (let candidate = 0; ; candidate += 1) {
    const code = String(candidate).padStart(6, '0');
    if (!right.has(code)) return code;
  }
}

describe('logging in with the second factor on', () => {
  test('the password asks for a code; the code opens a password+totp session', async () => {
    const { service, secret } = await enrolled();
    const { app, clock } = service;
    const response = await submit(app, 'POST', '/sessions', { email: EMAIL, password: PASSWORD });
    assert.equal(response.statusCode, 401);
    assert.deepEqual(
      { ...response.json<object>(), requestId: undefined },
      { message: 'second factor required', code: 'second_factor_required', requestId: undefined },
    );
    assert.equal(sessionCookie(response), undefined, 'no session before the code');
    const challenge = challengeOf(response);
    assert.ok(challenge);
    assert.equal(challenge.httpOnly, true);
    assert.equal(challenge.sameSite, 'Lax');
    assert.equal(challenge.path, '/');
    assert.equal(challenge.maxAge, 300);
    assert.equal(challenge.domain, undefined);

    const done = await secondStep(app, challenge.value, totpCodeAt(secret, clock.now()));
    assert.equal(done.statusCode, 200, done.body);
    assert.deepEqual(done.json(), { email: EMAIL, message: 'logged in' });
    const sessionId = sessionCookie(done);
    assert.ok(sessionId);
    const cleared = challengeOf(done);
    assert.equal(cleared?.value, '', 'the challenge cookie is cleared');
    const profile = await app.inject({ url: '/profile', cookies: { session_id: sessionId } });
    assert.equal(profile.statusCode, 200);
    const listed = await app.inject({
      url: '/profile/sessions',
      cookies: { session_id: sessionId },
    });
    const current = listed
      .json<{ sessions: { current: boolean; authenticated_by: string }[] }>()
      .sessions.find((session) => session.current);
    assert.equal(current?.authenticated_by, 'password+totp');
    const types = await auditTypes(service);
    assert.equal(types.at(-1), 'login_succeeded');

    // The challenge is gone with its use: the same cookie again is expired.
    const again = await secondStep(app, challenge.value, totpCodeAt(secret, clock.now() + 30_000));
    assert.equal(again.statusCode, 401);
    assert.equal(codeOf(again), 'second_factor_expired');
  });

  test('a wrong password answers as without a second factor, with no challenge', async () => {
    const { service } = await enrolled();
    const response = await submit(service.app, 'POST', '/sessions', {
      email: EMAIL,
      password: 'not the password',
    });
    assert.equal(response.statusCode, 401);
    assert.equal(codeOf(response), 'invalid_credentials');
    assert.equal(challengeOf(response), undefined);
  });

  test('a wrong code is 401 invalid_code, and the challenge still takes the right one', async () => {
    const { service, secret } = await enrolled();
    const { app, clock } = service;
    const challenge = await passwordStep(app);
    const wrong = await secondStep(app, challenge, wrongCode(secret, clock.now()));
    assert.equal(wrong.statusCode, 401);
    assert.equal(codeOf(wrong), 'invalid_code');
    assert.equal(sessionCookie(wrong), undefined);
    const right = await secondStep(app, challenge, totpCodeAt(secret, clock.now()));
    assert.equal(right.statusCode, 200);
    assert.ok((await auditTypes(service)).includes('second_factor_failed'));
  });

  test('5 wrong codes spend the challenge: even the right code is then expired', async () => {
    const { service, secret } = await enrolled();
    const { app, clock } = service;
    const challenge = await passwordStep(app);
    const wrong = wrongCode(secret, clock.now());
    const codes: (string | undefined)[] = [];
    for (let i = 0; i < 5; i += 1) codes.push(codeOf(await secondStep(app, challenge, wrong)));
    assert.deepEqual(codes, [
      'invalid_code',
      'invalid_code',
      'invalid_code',
      'invalid_code',
      'second_factor_expired',
    ]);
    const right = await secondStep(app, challenge, totpCodeAt(secret, clock.now()));
    assert.equal(right.statusCode, 401);
    assert.equal(codeOf(right), 'second_factor_expired');
    assert.equal(sessionCookie(right), undefined);
    // Starting again from the password works.
    const fresh = await passwordStep(app);
    assert.equal((await secondStep(app, fresh, totpCodeAt(secret, clock.now()))).statusCode, 200);
  });

  test('a challenge over 5 minutes old is refused', async () => {
    const { service, secret } = await enrolled();
    const { app, clock } = service;
    const challenge = await passwordStep(app);
    clock.advanceSeconds(301);
    const late = await secondStep(app, challenge, totpCodeAt(secret, clock.now()));
    assert.equal(late.statusCode, 401);
    assert.equal(codeOf(late), 'second_factor_expired');
    assert.equal(sessionCookie(late), undefined);
  });

  test('no cookie, or a made-up one, is expired, never a 500', async () => {
    const { service, secret } = await enrolled();
    const { app, clock } = service;
    const code = totpCodeAt(secret, clock.now());
    for (const challenge of [undefined, 'nonsense', '00000000-0000-4000-8000-000000000000']) {
      const response = await secondStep(app, challenge, code);
      assert.equal(response.statusCode, 401);
      assert.equal(codeOf(response), 'second_factor_expired');
    }
    const missing = await app.inject({
      method: 'POST',
      url: '/sessions/second-factor',
      payload: {},
    });
    assert.equal(missing.statusCode, 400);
    assert.equal(codeOf(missing), 'missing_field');
  });

  test('of 10 concurrent second steps with one code, exactly one logs in', async () => {
    const { service, secret } = await enrolled();
    const { app, clock } = service;
    const challenges = await Promise.all(Array.from({ length: 10 }, () => passwordStep(app)));
    const code = totpCodeAt(secret, clock.now());
    const answers = await Promise.all(
      challenges.map((challenge) => secondStep(app, challenge, code)),
    );
    const statuses = answers.map((answer) => answer.statusCode).sort();
    assert.deepEqual(statuses, [200, 401, 401, 401, 401, 401, 401, 401, 401, 401]);
    assert.equal(answers.filter((answer) => sessionCookie(answer) !== undefined).length, 1);
  });

  test('a recovery code logs in once, as password+recovery_code', async () => {
    const { service, codes } = await enrolled();
    const { app } = service;
    const [first] = codes;
    assert.ok(first);
    const typedDifferently = ` ${first.toUpperCase().replace('-', ' ')} `;
    const done = await secondStep(app, await passwordStep(app), typedDifferently);
    assert.equal(done.statusCode, 200, done.body);
    const sessionId = sessionCookie(done);
    assert.ok(sessionId);
    const listed = await app.inject({
      url: '/profile/sessions',
      cookies: { session_id: sessionId },
    });
    const current = listed
      .json<{ sessions: { current: boolean; authenticated_by: string }[] }>()
      .sessions.find((session) => session.current);
    assert.equal(current?.authenticated_by, 'password+recovery_code');
    assert.ok((await auditTypes(service)).includes('recovery_code_used'));
    const reused = await secondStep(app, await passwordStep(app), first);
    assert.equal(codeOf(reused), 'invalid_code');
  });
});

test('each login event says how its session was made: password, +totp, +recovery_code', async () => {
  const { service, secret, codes } = await enrolled();
  const { app, clock, admin } = service;
  await service.auth.drain();
  const before = (await admin.events({ type: 'login_succeeded', limit: 100 })).length;
  const totp = await secondStep(app, await passwordStep(app), totpCodeAt(secret, clock.now()));
  assert.equal(totp.statusCode, 200, totp.body);
  const recovery = await secondStep(app, await passwordStep(app), codes[0] ?? '');
  assert.equal(recovery.statusCode, 200, recovery.body);
  const other = await submit(app, 'POST', '/users', {
    email: 'eve@example.com',
    password: PASSWORD,
  });
  assert.equal(other.statusCode, 200);
  const plain = await submit(app, 'POST', '/sessions', {
    email: 'eve@example.com',
    password: PASSWORD,
  });
  assert.equal(plain.statusCode, 200, plain.body);

  const events = (await admin.events({ type: 'login_succeeded', limit: 100 }))
    .slice(0, -before || undefined)
    .reverse();
  assert.deepEqual(
    events.map((event) => [event.email, event.authMethod]),
    [
      [EMAIL, 'password+totp'],
      [EMAIL, 'password+recovery_code'],
      ['eve@example.com', 'password'],
    ],
  );
  // The challenge's password step is no login yet: nothing is recorded as one.
  await passwordStep(app);
  await service.auth.drain();
  assert.equal((await admin.events({ type: 'login_succeeded', limit: 100 })).length, before + 3);
});

describe('codes count toward the login throttle', () => {
  const THROTTLED = {
    RATE_LIMIT: 'on',
    LOGIN_THROTTLE_AFTER: '3',
    RATE_LIMIT_LOGIN: '1000/60',
    RATE_LIMIT_SIGNUP: '1000/60',
  };

  test('wrong codes are throttled like passwords (429), and a right code clears the count', async () => {
    const { service, secret } = await enrolled({ env: THROTTLED });
    const { app, clock } = service;
    // The password counts 1, the wrong codes 2 and 3; the next attempt waits.
    const challenge = await passwordStep(app);
    const wrong = wrongCode(secret, clock.now());
    assert.equal(codeOf(await secondStep(app, challenge, wrong)), 'invalid_code');
    assert.equal(codeOf(await secondStep(app, challenge, wrong)), 'invalid_code');
    const throttled = await secondStep(app, challenge, totpCodeAt(secret, clock.now()));
    assert.equal(throttled.statusCode, 429);
    assert.equal(codeOf(throttled), 'too_many_attempts');
    assert.equal(throttled.headers['retry-after'], '1');
    // The password is throttled too: the same count.
    const password = await submit(app, 'POST', '/sessions', { email: EMAIL, password: PASSWORD });
    assert.equal(password.statusCode, 429);

    // Each attempt past the free ones makes the next wait (the password's too), as for passwords.
    clock.advanceSeconds(2);
    const fresh = await passwordStep(app);
    clock.advanceSeconds(60);
    const right = await secondStep(app, fresh, totpCodeAt(secret, clock.now()));
    assert.equal(right.statusCode, 200, right.body);
    // Cleared: three failures are needed again before a wait.
    for (let i = 0; i < 2; i += 1) {
      const response = await submit(app, 'POST', '/sessions', { email: EMAIL, password: 'wrong' });
      assert.equal(response.statusCode, 401);
    }
  });

  test('a right password alone does not clear the count', async () => {
    const { service } = await enrolled({ env: THROTTLED });
    const { app } = service;
    await passwordStep(app);
    await passwordStep(app);
    await passwordStep(app);
    const fourth = await submit(app, 'POST', '/sessions', { email: EMAIL, password: PASSWORD });
    assert.equal(fourth.statusCode, 429);
  });
});
