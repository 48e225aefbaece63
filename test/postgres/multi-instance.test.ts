/**
 * PostgreSQL only: two real server processes on one database behave as one service. They start
 * together on an empty database (racing to migrate it), then share sessions, logouts and reset
 * tokens with no delay.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freshPostgresUrl } from '../support/databases.js';
import { formBody, startIsolatedServer } from '../support/process.js';

const EMAIL = 'multi@example.com';

test('two instances on one PostgreSQL database act as one service', async () => {
  const databaseUrl = await freshPostgresUrl();
  const env = { BCRYPT_ROUNDS: '4', RESET_TOKEN_IN_RESPONSE: 'true' };
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
  assert.deepEqual(await profile.json(), { email: EMAIL });

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
