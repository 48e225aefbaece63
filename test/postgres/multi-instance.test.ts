/**
 * PostgreSQL only: two real server processes on one database behave as one service. They start
 * together on an empty database (racing to migrate it), then share sessions, logouts and reset
 * tokens with no delay.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freshPostgresUrl } from '../support/databases.js';
import { formBody, startIsolatedServer } from '../support/process.js';
import { freshRedisPrefix, redisProblem, TEST_REDIS_URL } from '../support/redis.js';

const EMAIL = 'multi@example.com';

test('two instances on one PostgreSQL database act as one service', async () => {
  const databaseUrl = await freshPostgresUrl();
  const env = { BCRYPT_ROUNDS: '4', RESET_TOKEN_IN_RESPONSE: 'true', RATE_LIMIT: 'off' };
  const [a, b] = await Promise.all([
    startIsolatedServer(env, { databaseUrl }),
    startIsolatedServer(env, { databaseUrl }),
  ]);
  const send = (base: string, method: string, path: string, fields: Record<string, string>) =>
    fetch(`${base}${path}`, { method, body: formBody(fields) });
  const withCookie = (base: string, method: string, path: string, cookie: string) =>
    fetch(`${base}${path}`, { method, headers: { cookie }, redirect: 'manual' });
  const logIn = async (base: string, password: string) => {
    const response = await send(base, 'POST', '/sessions', { email: EMAIL, password });
    assert.equal(response.status, 200);
    return response.headers.get('set-cookie')?.split(';')[0] ?? '';
  };

  assert.equal(
    (await send(a.url, 'POST', '/users', { email: EMAIL, password: 'first pass' })).status,
    200,
  );
  assert.equal(
    (await send(b.url, 'POST', '/users', { email: EMAIL, password: 'other' })).status,
    400,
  );

  // A session created through one instance is valid on the other.
  const cookie = await logIn(a.url, 'first pass');
  const profile = await withCookie(b.url, 'GET', '/profile', cookie);
  assert.equal(profile.status, 200);
  assert.deepEqual(await profile.json(), {
    email: EMAIL,
    two_factor: false,
    email_verified: false,
  });

  // A logout through one is seen by the other at once.
  assert.equal((await withCookie(b.url, 'DELETE', '/sessions', cookie)).status, 302);
  assert.equal((await withCookie(a.url, 'GET', '/profile', cookie)).status, 403);

  // A reset token issued by one is accepted exactly once, whichever instance gets it first.
  const live = await logIn(b.url, 'first pass');
  const issued = await send(a.url, 'POST', '/reset_password', { email: EMAIL });
  const { reset_token: token } = (await issued.json()) as { reset_token: string };
  const fields = { email: EMAIL, reset_token: token, new_password: 'second pass' };
  const answers = await Promise.all([
    send(a.url, 'PUT', '/reset_password', fields),
    send(b.url, 'PUT', '/reset_password', fields),
  ]);
  assert.deepEqual(answers.map((answer) => answer.status).sort(), [200, 403]);
  assert.equal((await withCookie(a.url, 'GET', '/profile', live)).status, 403, 'reset ended it');
  await logIn(a.url, 'second pass');
  await logIn(b.url, 'second pass');
});

test('two instances share login throttling through the database and client limits through Redis', async (t) => {
  const problem = await redisProblem();
  if (problem !== undefined) {
    assert.notEqual(process.env.CI, 'true', `Redis is required under CI: ${problem}`);
    t.skip(`Redis unreachable at ${TEST_REDIS_URL} (${problem})`);
    return;
  }
  const databaseUrl = await freshPostgresUrl();
  const env = {
    BCRYPT_ROUNDS: '4',
    RATE_LIMIT: 'on',
    LOGIN_THROTTLE_AFTER: '3',
    RATE_LIMIT_LOGIN: '1000/60',
    RATE_LIMIT_SIGNUP: '4/3600',
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: freshRedisPrefix(),
  };
  const [a, b] = await Promise.all([
    startIsolatedServer(env, { databaseUrl }),
    startIsolatedServer(env, { databaseUrl }),
  ]);
  const send = (base: string, path: string, fields: Record<string, string>) =>
    fetch(`${base}${path}`, { method: 'POST', body: formBody(fields) });

  // Four sign-ups from this client, alternating instances, use up the shared limit of four.
  const statuses = [];
  for (let i = 0; i < 6; i += 1) {
    const base = i % 2 === 0 ? a.url : b.url;
    statuses.push(
      (await send(base, '/users', { email: `shared${i}@example.com`, password: 'shared pass' }))
        .status,
    );
  }
  assert.deepEqual(statuses, [200, 200, 200, 200, 429, 429]);

  // Failed logins counted on one instance throttle the account on the other.
  for (let i = 0; i < 3; i += 1) {
    const failed = await send(a.url, '/sessions', { email: 'shared0@example.com', password: 'no' });
    assert.equal(failed.status, 401);
  }
  const throttled = await send(b.url, '/sessions', {
    email: 'shared0@example.com',
    password: 'shared pass',
  });
  assert.equal(throttled.status, 429);
  assert.ok(Number(throttled.headers.get('retry-after')) >= 1);
});
