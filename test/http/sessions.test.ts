/**
 * Several sessions per account, seen through the API: each login opens its own session, logout
 * ends only the caller's, SESSIONS_PER_USER caps them (ending the least recently seen), and a
 * password change, a reset and the account's deletion end the others or all of them.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { digestToken } from '../../src/auth/tokens.js';
import { inspectableDatabase } from '../support/databases.js';
import {
  form,
  sessionCookie,
  signUpAndLogIn,
  startTestService,
  submit,
} from '../support/service.js';

const EMAIL = 'multi@example.com';
const PASSWORD = 'correct horse';
const NEW_PASSWORD = 'battery staple';

async function logIn(app: FastifyInstance, email = EMAIL, password = PASSWORD): Promise<string> {
  const login = await submit(app, 'POST', '/sessions', { email, password });
  const sessionId = sessionCookie(login);
  assert.ok(sessionId, `login failed: ${login.body}`);
  return sessionId;
}

const profile = async (app: FastifyInstance, sessionId: string) =>
  (await app.inject({ method: 'GET', url: '/profile', cookies: { session_id: sessionId } }))
    .statusCode;

const logOut = async (app: FastifyInstance, sessionId: string) =>
  (await app.inject({ method: 'DELETE', url: '/sessions', cookies: { session_id: sessionId } }))
    .statusCode;

describe('several sessions per account', () => {
  test('two logins of one account give two live sessions; logging out of one leaves the other', async () => {
    const { app } = await startTestService();
    const laptop = await signUpAndLogIn(app, EMAIL, PASSWORD);
    const phone = await logIn(app);
    assert.notEqual(laptop, phone);
    assert.equal(await profile(app, laptop), 200);
    assert.equal(await profile(app, phone), 200);

    assert.equal(await logOut(app, laptop), 302);
    assert.equal(await profile(app, laptop), 403, 'the session logged out of ended');
    assert.equal(await profile(app, phone), 200, 'the other session is untouched');
    assert.equal(await logOut(app, laptop), 403);
  });

  test('logging out on the page ends only that session too', async () => {
    const { app } = await startTestService();
    const laptop = await signUpAndLogIn(app, EMAIL, PASSWORD);
    const phone = await logIn(app);
    const logout = await app.inject({
      method: 'POST',
      url: '/logout',
      headers: { origin: 'http://auth.test' },
      cookies: { session_id: laptop },
    });
    assert.equal(logout.statusCode, 303);
    assert.equal(await profile(app, laptop), 403);
    assert.equal(await profile(app, phone), 200);
  });

  test('a login beyond SESSIONS_PER_USER ends the least recently seen session, of that account only', async () => {
    const { app, clock } = await startTestService({ SESSIONS_PER_USER: '2' });
    const other = await signUpAndLogIn(app, 'other@example.com', PASSWORD);
    const first = await signUpAndLogIn(app, EMAIL, PASSWORD);
    const second = await logIn(app);
    // The first is used after the refresh interval: the second is now the least recently seen.
    clock.advanceSeconds(600);
    assert.equal(await profile(app, first), 200);
    const third = await logIn(app);
    assert.equal(await profile(app, second), 403, 'the least recently seen ended');
    assert.equal(await profile(app, first), 200);
    assert.equal(await profile(app, third), 200);
    assert.equal(await profile(app, other), 200, 'another account keeps its session');
  });

  test('SESSIONS_PER_USER=1 reproduces the course: a new login ends the previous session', async () => {
    const { app } = await startTestService({ SESSIONS_PER_USER: '1' });
    const first = await signUpAndLogIn(app, EMAIL, PASSWORD);
    const second = await logIn(app);
    assert.equal(await profile(app, first), 403);
    assert.equal(await profile(app, second), 200);
  });

  test('a password change keeps the changing session (under a new cookie) and ends the others', async () => {
    const database = await inspectableDatabase();
    const { app } = await startTestService({ DATABASE_URL: database.url });
    const changing = await signUpAndLogIn(app, EMAIL, PASSWORD);
    const others = [await logIn(app), await logIn(app)];
    const [before] = await database.rows(
      `SELECT id FROM sessions WHERE token_digest = '${digestToken(changing)}'`,
    );
    assert.ok(before);
    const changed = await app.inject({
      method: 'PUT',
      url: '/profile/password',
      cookies: { session_id: changing },
      ...form({ current_password: PASSWORD, new_password: NEW_PASSWORD }),
    });
    assert.equal(changed.statusCode, 200, changed.body);
    const renewed = sessionCookie(changed);
    assert.ok(renewed !== undefined && renewed !== changing);
    assert.equal(await profile(app, renewed), 200, 'the changing client stays logged in');
    assert.equal(await profile(app, changing), 403, 'under a new token only');
    for (const other of others) assert.equal(await profile(app, other), 403);
    const after = await database.rows('SELECT id, token_digest FROM sessions');
    assert.deepEqual(
      after,
      [{ id: before.id, token_digest: digestToken(renewed) }],
      'the same session carries on, alone',
    );
  });

  test('a refused password change ends nothing', async () => {
    const { app } = await startTestService();
    const changing = await signUpAndLogIn(app, EMAIL, PASSWORD);
    const other = await logIn(app);
    const refused = await app.inject({
      method: 'PUT',
      url: '/profile/password',
      cookies: { session_id: changing },
      ...form({ current_password: 'not the password', new_password: NEW_PASSWORD }),
    });
    assert.equal(refused.statusCode, 401);
    assert.equal(await profile(app, changing), 200);
    assert.equal(await profile(app, other), 200);
  });

  test('a password reset ends every session of the account', async () => {
    const { app } = await startTestService({ RESET_TOKEN_IN_RESPONSE: 'true' });
    const sessions = [await signUpAndLogIn(app, EMAIL, PASSWORD), await logIn(app)];
    const bystander = await signUpAndLogIn(app, 'other@example.com', PASSWORD);
    const requested = await submit(app, 'POST', '/reset_password', { email: EMAIL });
    const token = requested.json<{ reset_token: string }>().reset_token;
    const reset = await submit(app, 'PUT', '/reset_password', {
      email: EMAIL,
      reset_token: token,
      new_password: NEW_PASSWORD,
    });
    assert.equal(reset.statusCode, 200, reset.body);
    for (const session of sessions) assert.equal(await profile(app, session), 403);
    assert.equal(await profile(app, bystander), 200);
  });

  test('deleting the account ends, and deletes, every one of its sessions', async () => {
    const database = await inspectableDatabase();
    const { app } = await startTestService({ DATABASE_URL: database.url });
    const bystander = await signUpAndLogIn(app, 'other@example.com', PASSWORD);
    const deleting = await signUpAndLogIn(app, EMAIL, PASSWORD);
    const other = await logIn(app);
    const deleted = await app.inject({
      method: 'DELETE',
      url: '/profile',
      cookies: { session_id: deleting },
      ...form({ password: PASSWORD }),
    });
    assert.equal(deleted.statusCode, 200, deleted.body);
    assert.equal(await profile(app, other), 403);
    assert.equal(await profile(app, bystander), 200);
    const rows = await database.rows(
      `SELECT u.email FROM sessions s JOIN users u ON u.id = s.user_id`,
    );
    assert.deepEqual(rows, [{ email: 'other@example.com' }]);
    const [{ count } = { count: -1 }] = await database.rows(
      'SELECT count(*) AS count FROM sessions',
    );
    assert.equal(Number(count), 1, 'no session row outlives its account');
  });
});
