/**
 * Abuse protection through the front door: per-email login throttling with backoff, per-client
 * rate limits and which address counts as the client, cross-site request refusal, and the
 * password policy's refusal of common and breached passwords.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { inspectableDatabase } from '../support/databases.js';
import { signUpAndLogIn, startTestService, submit } from '../support/service.js';

const EMAIL = 'bob@example.com';
const PASSWORD = 'correct horse';
/** Abuse protection on, with per-client limits high enough to stay out of the way. */
const THROTTLED = {
  RATE_LIMIT: 'on',
  LOGIN_THROTTLE_AFTER: '3',
  RATE_LIMIT_LOGIN: '1000/60',
  RATE_LIMIT_SIGNUP: '1000/60',
};

const logIn = (app: FastifyInstance, email: string, password: string) =>
  submit(app, 'POST', '/sessions', { email, password });

describe('login throttling', () => {
  test('after LOGIN_THROTTLE_AFTER failures, logins answer 429 with Retry-After until it passes', async () => {
    const { app, clock } = await startTestService(THROTTLED);
    await signUpAndLogIn(app, EMAIL, PASSWORD);
    for (let i = 0; i < 3; i += 1) assert.equal((await logIn(app, EMAIL, 'wrong')).statusCode, 401);
    const refused = await logIn(app, EMAIL, PASSWORD);
    assert.equal(refused.statusCode, 429);
    assert.equal(refused.headers['retry-after'], '1');
    assert.match(refused.json<{ message: string }>().message, /try again/);
    clock.advanceSeconds(1);
    assert.equal((await logIn(app, EMAIL, PASSWORD)).statusCode, 200);
    // The success cleared the count: a new failure is an ordinary 401.
    assert.equal((await logIn(app, EMAIL, 'wrong')).statusCode, 401);
    assert.equal((await logIn(app, EMAIL, PASSWORD)).statusCode, 200);
  });

  test('the wait doubles with each further failure, up to LOGIN_THROTTLE_MAX_DELAY, never for good', async () => {
    const { app, clock } = await startTestService({ ...THROTTLED, LOGIN_THROTTLE_MAX_DELAY: '4' });
    await signUpAndLogIn(app, EMAIL, PASSWORD);
    const waits: string[] = [];
    for (let i = 0; i < 2; i += 1) await logIn(app, EMAIL, 'wrong');
    for (let i = 0; i < 5; i += 1) {
      assert.equal((await logIn(app, EMAIL, 'wrong')).statusCode, 401);
      const refused = await logIn(app, EMAIL, 'wrong');
      assert.equal(refused.statusCode, 429);
      waits.push(String(refused.headers['retry-after']));
      clock.advanceSeconds(Number(refused.headers['retry-after']));
    }
    assert.deepEqual(waits, ['1', '2', '4', '4', '4']);
    assert.equal((await logIn(app, EMAIL, PASSWORD)).statusCode, 200);
  });

  test('unknown emails are throttled alike, with the same answer', async () => {
    const { app } = await startTestService(THROTTLED);
    await signUpAndLogIn(app, EMAIL, PASSWORD);
    for (let i = 0; i < 3; i += 1) {
      await logIn(app, EMAIL, 'wrong');
      await logIn(app, 'nobody@example.com', 'wrong');
    }
    const known = await logIn(app, EMAIL, 'wrong');
    const unknown = await logIn(app, 'nobody@example.com', 'wrong');
    assert.equal(known.statusCode, 429);
    assert.equal(unknown.statusCode, 429);
    // The same answer but for the request id, which every answer has its own of.
    const withoutId = (body: string) => ({ ...(JSON.parse(body) as object), requestId: 'x' });
    assert.deepEqual(withoutId(known.body), withoutId(unknown.body));
    assert.equal(known.headers['retry-after'], unknown.headers['retry-after']);
  });

  test('a completed password reset clears the count', async () => {
    const { app, auth } = await startTestService(THROTTLED);
    await signUpAndLogIn(app, EMAIL, PASSWORD);
    for (let i = 0; i < 3; i += 1) await logIn(app, EMAIL, 'wrong');
    assert.equal((await logIn(app, EMAIL, PASSWORD)).statusCode, 429);
    const token = await auth.getResetPasswordToken(EMAIL);
    await auth.updatePassword(token, 'a brand new password');
    assert.equal((await logIn(app, EMAIL, 'a brand new password')).statusCode, 200);
  });

  test('50 parallel wrong attempts are all counted', async () => {
    const database = await inspectableDatabase();
    const { app } = await startTestService({
      ...THROTTLED,
      LOGIN_THROTTLE_AFTER: '1000',
      DATABASE_URL: database.url,
    });
    await signUpAndLogIn(app, EMAIL, PASSWORD);
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => logIn(app, EMAIL, `wrong ${i}`)),
    );
    assert.ok(answers.every((answer) => answer.statusCode === 401));
    const rows = await database.rows("SELECT count FROM throttles WHERE kind = 'login'");
    assert.deepEqual(rows, [{ count: 50 }]);
  });

  test('with RATE_LIMIT=off nothing is throttled', async () => {
    const { app } = await startTestService({ LOGIN_THROTTLE_AFTER: '1' });
    await signUpAndLogIn(app, EMAIL, PASSWORD);
    for (let i = 0; i < 5; i += 1) assert.equal((await logIn(app, EMAIL, 'wrong')).statusCode, 401);
    assert.equal((await logIn(app, EMAIL, PASSWORD)).statusCode, 200);
  });
});

describe('per-client rate limits', () => {
  const signUp = (app: FastifyInstance, i: number, headers: Record<string, string> = {}) =>
    app.inject({
      method: 'POST',
      url: '/users',
      remoteAddress: headers.remoteAddress ?? '127.0.0.1',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...Object.fromEntries(Object.entries(headers).filter(([name]) => name !== 'remoteAddress')),
      },
      payload: new URLSearchParams({
        email: `user${i}@example.com`,
        password: PASSWORD,
      }).toString(),
    });

  test('a client over its sign-up limit gets 429 with Retry-After; other clients do not', async () => {
    const { app } = await startTestService({ RATE_LIMIT: 'on', RATE_LIMIT_SIGNUP: '3/3600' });
    for (let i = 0; i < 3; i += 1) assert.equal((await signUp(app, i)).statusCode, 200);
    const refused = await signUp(app, 3);
    assert.equal(refused.statusCode, 429);
    assert.equal(refused.headers['retry-after'], '3600');
    assert.match(refused.json<{ message: string }>().message, /Too many requests/);
    assert.equal((await signUp(app, 4, { remoteAddress: '192.0.2.7' })).statusCode, 200);
  });

  test('X-Forwarded-For is ignored unless the connection comes from a TRUST_PROXY address', async () => {
    const untrusting = await startTestService({ RATE_LIMIT: 'on', RATE_LIMIT_SIGNUP: '2/3600' });
    for (let i = 0; i < 2; i += 1) {
      assert.equal(
        (await signUp(untrusting.app, i, { 'x-forwarded-for': `198.51.100.${i}` })).statusCode,
        200,
      );
    }
    const forged = await signUp(untrusting.app, 2, { 'x-forwarded-for': '198.51.100.99' });
    assert.equal(forged.statusCode, 429, 'a forged X-Forwarded-For changes nothing');

    const behindProxy = await startTestService({
      RATE_LIMIT: 'on',
      RATE_LIMIT_SIGNUP: '2/3600',
      TRUST_PROXY: '127.0.0.1',
    });
    for (let i = 0; i < 2; i += 1) {
      assert.equal(
        (await signUp(behindProxy.app, i, { 'x-forwarded-for': '198.51.100.1' })).statusCode,
        200,
      );
    }
    assert.equal(
      (await signUp(behindProxy.app, 2, { 'x-forwarded-for': '198.51.100.1' })).statusCode,
      429,
    );
    assert.equal(
      (await signUp(behindProxy.app, 3, { 'x-forwarded-for': '198.51.100.2' })).statusCode,
      200,
    );
  });

  test('every attacked route is limited: login, reset request, reset', async () => {
    const { app } = await startTestService({
      RATE_LIMIT: 'on',
      RATE_LIMIT_LOGIN: '2/60',
      RATE_LIMIT_RESET_REQUEST: '2/60',
      RATE_LIMIT_RESET: '2/60',
    });
    const attempts = [
      () => logIn(app, 'x@example.com', 'whatever1'),
      () => submit(app, 'POST', '/reset_password', { email: 'x@example.com' }),
      () =>
        submit(app, 'PUT', '/reset_password', {
          email: 'x@example.com',
          reset_token: crypto.randomUUID(),
          new_password: 'guessing a token',
        }),
    ];
    for (const attempt of attempts) {
      const statuses = [];
      for (let i = 0; i < 3; i += 1) statuses.push((await attempt()).statusCode);
      assert.equal(statuses[2], 429, JSON.stringify(statuses));
      assert.notEqual(statuses[1], 429);
    }
  });
});

describe('cross-site requests', () => {
  test('a cross-site DELETE /sessions is refused and the session survives', async () => {
    const { app } = await startTestService({ PUBLIC_URL: 'https://auth.example.org' });
    const sessionId = await signUpAndLogIn(app, EMAIL, PASSWORD);
    const logOut = (headers: Record<string, string>) =>
      app.inject({
        method: 'DELETE',
        url: '/sessions',
        cookies: { session_id: sessionId },
        headers,
      });
    const fromElsewhere = await logOut({ origin: 'https://evil.example' });
    assert.equal(fromElsewhere.statusCode, 403);
    assert.match(fromElsewhere.json<{ message: string }>().message, /Cross-site/);
    assert.equal((await logOut({ 'sec-fetch-site': 'cross-site' })).statusCode, 403);
    const profile = await app.inject({
      method: 'GET',
      url: '/profile',
      cookies: { session_id: sessionId },
    });
    assert.equal(profile.statusCode, 200);
    const sameOrigin = await logOut({
      origin: 'https://auth.example.org',
      'sec-fetch-site': 'same-origin',
    });
    assert.equal(sameOrigin.statusCode, 302);
  });

  test('cross-site sign-ups and logins are refused too; clients that send no origin are not', async () => {
    const { app } = await startTestService({ PUBLIC_URL: 'https://auth.example.org' });
    const crossSite = await app.inject({
      method: 'POST',
      url: '/users',
      headers: { origin: 'https://evil.example' },
      payload: { email: EMAIL, password: PASSWORD },
    });
    assert.equal(crossSite.statusCode, 403);
    await signUpAndLogIn(app, EMAIL, PASSWORD);
  });
});

describe('password policy', () => {
  test('a common password from leaked lists is refused, saying why', async () => {
    const { app } = await startTestService();
    for (const password of ['password1', 'Password1', 'iloveyou']) {
      const response = await submit(app, 'POST', '/users', { email: EMAIL, password });
      assert.equal(response.statusCode, 400, password);
      assert.match(response.json<{ message: string }>().message, /too common/);
    }
  });

  test('with HIBP=on a password known to Have I Been Pwned is refused; only a hash prefix leaves', async () => {
    const breached = 'purple monkey dishwasher';
    const digest = createHash('sha1').update(breached).digest('hex').toUpperCase();
    const requested: string[] = [];
    const standIn = createServer((request, response) => {
      requested.push(request.url ?? '');
      response.end(`0000000000000000000000000000000000A:0\r\n${digest.slice(5)}:42\r\n`);
    });
    await new Promise<void>((done) => standIn.listen(0, '127.0.0.1', done));
    after(() => standIn.close());
    const { port } = standIn.address() as AddressInfo;
    const { app } = await startTestService({ HIBP: 'on', HIBP_URL: `http://127.0.0.1:${port}` });
    const refused = await submit(app, 'POST', '/users', { email: EMAIL, password: breached });
    assert.equal(refused.statusCode, 400);
    assert.match(refused.json<{ message: string }>().message, /data breach/);
    assert.equal(
      (await submit(app, 'POST', '/users', { email: EMAIL, password: PASSWORD })).statusCode,
      200,
    );
    assert.equal(requested[0], `/range/${digest.slice(0, 5)}`);
    assert.ok(requested.every((url) => /^\/range\/[0-9A-F]{5}$/.test(url)));
  });

  test('with HIBP=on but the service unreachable, the password is accepted and a line logged', async () => {
    const closed = createServer();
    await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((done) => closed.close(() => done()));
    const { app, logs } = await startTestService({
      HIBP: 'on',
      HIBP_URL: `http://127.0.0.1:${port}`,
    });
    assert.equal(
      (await submit(app, 'POST', '/users', { email: EMAIL, password: PASSWORD })).statusCode,
      200,
    );
    assert.ok(logs.some((line) => line.includes('Have I Been Pwned could not be checked')));
  });
});
