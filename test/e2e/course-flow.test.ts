/**
 * The course's task 20 integration script, played over real HTTP against the real server process
 * with the course's settings, the way its Python `requests` client does it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formBody, startIsolatedServer } from '../support/process.js';

const EMAIL = 'guillaume@holberton.io';
const PASSWD = 'b4l0u';
const NEW_PASSWD = 't4rt1fl3tt3';

test("the course's integration flow passes against the real server", async () => {
  const { url } = await startIsolatedServer({
    PASSWORD_MIN_LENGTH: '1',
    RESET_TOKEN_IN_RESPONSE: 'true',
    // The course's model: one session per account.
    SESSIONS_PER_USER: '1',
  });
  const post = (path: string, fields: Record<string, string>, method = 'POST') =>
    fetch(`${url}${path}`, { method, body: formBody(fields) });
  const withCookie = (path: string, sessionId: string, method = 'GET') =>
    fetch(`${url}${path}`, {
      method,
      headers: { cookie: `session_id=${sessionId}` },
      redirect: 'manual',
    });

  // register_user
  let response = await post('/users', { email: EMAIL, password: PASSWD });
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { email: EMAIL, message: 'user created' });
  response = await post('/users', { email: EMAIL, password: PASSWD });
  assert.equal(response.status, 400);
  assert.deepEqual(await response.json(), { message: 'email already registered' });

  // log_in_wrong_password
  response = await post('/sessions', { email: EMAIL, password: NEW_PASSWD });
  assert.equal(response.status, 401);

  // profile_unlogged
  response = await fetch(`${url}/profile`);
  assert.equal(response.status, 403);

  // log_in
  response = await post('/sessions', { email: EMAIL, password: PASSWD });
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { email: EMAIL, message: 'logged in' });
  const sessionId = /session_id=([^;]+)/.exec(response.headers.get('set-cookie') ?? '')?.[1];
  assert.ok(sessionId);

  // profile_logged
  response = await withCookie('/profile', sessionId);
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), {
    email: EMAIL,
    two_factor: false,
    email_verified: false,
  });

  // log_out: a 302 that `requests` follows with a GET
  response = await withCookie('/sessions', sessionId, 'DELETE');
  assert.equal(response.status, 302);
  const location = response.headers.get('location');
  assert.equal(location, '/');
  response = await fetch(new URL(location, url));
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { message: 'Bienvenue' });

  // reset_password_token
  response = await post('/reset_password', { email: EMAIL });
  assert.equal(response.status, 200);
  const body = (await response.json()) as { email: string; reset_token: string };
  assert.equal(body.email, EMAIL);
  assert.match(body.reset_token, /^[0-9a-f-]{36}$/);

  // update_password
  response = await post(
    '/reset_password',
    { email: EMAIL, reset_token: body.reset_token, new_password: NEW_PASSWD },
    'PUT',
  );
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { email: EMAIL, message: 'Password updated' });

  // log_in with the new password
  response = await post('/sessions', { email: EMAIL, password: NEW_PASSWD });
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { email: EMAIL, message: 'logged in' });
});
