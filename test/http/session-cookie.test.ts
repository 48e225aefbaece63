/**
 * The session cookie as requests carry it: more than one cookie of the session's name means no
 * session at all (cookie tossing from a sibling subdomain), with a warning in the log, through
 * every door (the API and the pages); a quoted value is read as its content; and a `__Host-`
 * name works over https.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { form, signUpAndLogIn, startTestService } from '../support/service.js';

describe('the default session_id cookie', async () => {
  const service = await startTestService();
  const { app } = service;
  const sessionId = await signUpAndLogIn(app, 'ivy@example.com', 'correct horse');
  const profile = (cookie: string) =>
    app.inject({ method: 'GET', url: '/profile', headers: { cookie } });
  const warnings = () =>
    service.logs.filter((line) => line.includes('the session cookie was sent more than once'));

  test('one live session_id cookie is a session (the baseline)', async () => {
    assert.equal((await profile(`session_id=${sessionId}`)).statusCode, 200);
  });

  for (const [what, cookie] of [
    ['the live one first', () => `session_id=${sessionId}; session_id=${randomUUID()}`],
    ['the live one last', () => `session_id=${randomUUID()}; session_id=${sessionId}`],
    ['the live one twice', () => `session_id=${sessionId}; session_id=${sessionId}`],
    ['among other cookies', () => `theme=dark; session_id=${sessionId}; lang=fr; session_id=x`],
  ] as const) {
    test(`two session_id cookies, ${what}, are no session: 403 on /profile and a warning`, async () => {
      const before = warnings().length;
      const response = await profile(cookie());
      assert.equal(response.statusCode, 403, response.body);
      assert.equal(response.json<{ code: string }>().code, 'session_required');
      assert.equal(warnings().length, before + 1, 'one warning logged');
      const [line = '{}'] = warnings().slice(-1);
      const entry = JSON.parse(line) as { level: number; reqId?: string };
      assert.equal(entry.level, 40, 'logged as a warning');
      assert.equal(entry.reqId, response.headers['x-request-id']);
    });
  }

  test('two session_id cookies neither log out nor reach the account page', async () => {
    const cookie = `session_id=${sessionId}; session_id=${randomUUID()}`;
    const logout = await app.inject({ method: 'DELETE', url: '/sessions', headers: { cookie } });
    assert.equal(logout.statusCode, 403);
    const account = await app.inject({ method: 'GET', url: '/account', headers: { cookie } });
    assert.equal(account.statusCode, 303);
    assert.equal(account.headers.location, '/login');
    // The session itself is untouched.
    assert.equal((await profile(`session_id=${sessionId}`)).statusCode, 200);
  });

  test('a cookie whose name only contains session_id is not the session cookie', async () => {
    const before = warnings().length;
    const cookie = `session_id=${sessionId}; xsession_id=${randomUUID()}; session_idx=1`;
    assert.equal((await profile(cookie)).statusCode, 200);
    assert.equal(warnings().length, before, 'no warning');
  });

  test('a quoted session_id value is read as its content', async () => {
    const response = await profile(`session_id="${sessionId}"`);
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(response.json(), {
      email: 'ivy@example.com',
      two_factor: false,
      email_verified: false,
    });
  });
});

describe('SESSION_COOKIE_NAME=__Host-session_id with an https PUBLIC_URL', async () => {
  const NAME = '__Host-session_id';
  const service = await startTestService({
    PUBLIC_URL: 'https://auth.test',
    SESSION_COOKIE_NAME: NAME,
  });
  const { app } = service;
  const account = { email: 'jude@example.com', password: 'correct horse' };
  assert.equal(
    (await app.inject({ method: 'POST', url: '/users', ...form(account) })).statusCode,
    200,
  );
  const login = await app.inject({ method: 'POST', url: '/sessions', ...form(account) });

  test('login sets the cookie under that name, Secure, Path=/ and without Domain', () => {
    assert.equal(login.statusCode, 200, login.body);
    const cookie = login.cookies.find((candidate) => candidate.name === NAME);
    assert.ok(cookie !== undefined, `no ${NAME} cookie in ${String(login.headers['set-cookie'])}`);
    assert.equal(cookie.secure, true);
    assert.equal(cookie.path, '/');
    assert.equal(cookie.domain, undefined);
    assert.equal(login.cookies.filter((candidate) => candidate.name === 'session_id').length, 0);
  });

  test('the profile answers to that cookie, and not to a session_id one', async () => {
    const sessionId = login.cookies.find((candidate) => candidate.name === NAME)?.value ?? '';
    const withName = await app.inject({
      method: 'GET',
      url: '/profile',
      headers: { cookie: `${NAME}=${sessionId}` },
    });
    assert.equal(withName.statusCode, 200, withName.body);
    const withOld = await app.inject({
      method: 'GET',
      url: '/profile',
      headers: { cookie: `session_id=${sessionId}` },
    });
    assert.equal(withOld.statusCode, 403);
  });
});
