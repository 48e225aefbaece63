/**
 * A user's devices: the API of their own sessions (GET and DELETE /profile/sessions, DELETE
 * /profile/sessions/{id}), the "Your devices" section of the account page and its forms, and the
 * audit trail of how each session began and ended.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import type { AccountAdmin } from '../../src/auth/admin.js';
import type { Auth } from '../../src/auth/service.js';
import { sessionCookie, signUpAndLogIn, startTestService, submit } from '../support/service.js';

const EMAIL = 'devices@example.com';
const PASSWORD = 'correct horse';
const NEW_PASSWORD = 'battery staple';
const FIREFOX_WINDOWS =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';
const SAFARI_IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
const OWN_PAGE = { origin: 'http://auth.test' };

interface SessionJson {
  id: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  ip: string | null;
  user_agent: string | null;
  authenticated_by: string;
  current: boolean;
}

/** Logs in with `userAgent`; returns the session cookie's value. */
async function logIn(app: FastifyInstance, userAgent: string, email = EMAIL): Promise<string> {
  const login = await app.inject({
    method: 'POST',
    url: '/sessions',
    headers: { 'content-type': 'application/json', 'user-agent': userAgent },
    payload: { email, password: PASSWORD },
  });
  const token = sessionCookie(login);
  assert.ok(token, `login failed: ${login.body}`);
  return token;
}

const asSession = (token: string): Pick<InjectOptions, 'cookies'> => ({
  cookies: { session_id: token },
});

async function listOf(app: FastifyInstance, token: string): Promise<SessionJson[]> {
  const response = await app.inject({
    method: 'GET',
    url: '/profile/sessions',
    ...asSession(token),
  });
  assert.equal(response.statusCode, 200, response.body);
  return response.json<{ sessions: SessionJson[] }>().sessions;
}

const profile = async (app: FastifyInstance, token: string) =>
  (await app.inject({ method: 'GET', url: '/profile', ...asSession(token) })).statusCode;

/** Two accounts: the user's laptop and phone, and a stranger's session. */
async function twoDevicesAndAStranger() {
  const service = await startTestService();
  const { app, clock } = service;
  await submit(app, 'POST', '/users', { email: EMAIL, password: PASSWORD });
  await submit(app, 'POST', '/users', { email: 'stranger@example.com', password: PASSWORD });
  const phone = await logIn(app, SAFARI_IPHONE);
  clock.advanceSeconds(60);
  const laptop = await logIn(app, FIREFOX_WINDOWS);
  const stranger = await logIn(app, FIREFOX_WINDOWS, 'stranger@example.com');
  return { ...service, laptop, phone, stranger };
}

/** The session_ended reasons recorded for the account of `email`, oldest first. */
async function endReasons(auth: Auth, admin: AccountAdmin, email = EMAIL) {
  await auth.drain();
  // By type, then email: a deleted account's events stay, but its email no longer names it.
  const events = await admin.events({ type: 'session_ended', limit: 100 });
  return events
    .filter((event) => event.email === email)
    .map((event) => event.reason)
    .reverse();
}

describe('GET /profile/sessions', () => {
  test('lists the live sessions most recently seen first, the caller’s marked current, no token', async () => {
    const { app, laptop, phone } = await twoDevicesAndAStranger();
    const response = await app.inject({
      method: 'GET',
      url: '/profile/sessions',
      ...asSession(laptop),
    });
    assert.equal(response.statusCode, 200);
    const { sessions } = response.json<{ sessions: SessionJson[] }>();
    assert.equal(sessions.length, 2, 'only the account’s own');
    const [first, second] = sessions;
    assert.ok(first && second);
    assert.deepEqual(
      [first.user_agent, first.current, second.user_agent, second.current],
      [FIREFOX_WINDOWS, true, SAFARI_IPHONE, false],
    );
    for (const session of sessions) {
      assert.deepEqual(Object.keys(session).sort(), [
        'authenticated_by',
        'created_at',
        'current',
        'expires_at',
        'id',
        'ip',
        'last_seen_at',
        'user_agent',
      ]);
      for (const time of [session.created_at, session.last_seen_at, session.expires_at])
        assert.equal(new Date(time).toISOString(), time, 'an ISO 8601 time');
      assert.equal(session.ip, '127.0.0.1');
      assert.equal(session.authenticated_by, 'password', 'made with the password alone');
      assert.ok(Date.parse(session.expires_at) > Date.parse(session.last_seen_at));
    }
    assert.equal(Date.parse(first.created_at) - Date.parse(second.created_at), 60_000);
    for (const token of [laptop, phone]) assert.ok(!response.body.includes(token));
    assert.doesNotMatch(response.body, /digest/);
  });

  test('without a live session is 403 session_required, as GET /profile answers', async () => {
    const { app, clock, config, laptop } = await twoDevicesAndAStranger();
    const none = await app.inject({ method: 'GET', url: '/profile/sessions' });
    assert.equal(none.statusCode, 403);
    assert.equal(none.json<{ code: string }>().code, 'session_required');
    assert.deepEqual(
      Object.keys(none.json<object>()).sort(),
      Object.keys((await app.inject({ method: 'GET', url: '/profile' })).json<object>()).sort(),
    );
    clock.advanceSeconds(config.sessionTtl + 1);
    const expired = await app.inject({
      method: 'GET',
      url: '/profile/sessions',
      ...asSession(laptop),
    });
    assert.equal(expired.statusCode, 403);
  });
});

describe('DELETE /profile/sessions/{id}', () => {
  test('ends that session of the account, and only it', async () => {
    const { app, auth, admin, laptop, phone, stranger } = await twoDevicesAndAStranger();
    const phoneId = (await listOf(app, laptop)).find((session) => !session.current)?.id ?? '';
    const response = await app.inject({
      method: 'DELETE',
      url: `/profile/sessions/${phoneId}`,
      ...asSession(laptop),
    });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { message: 'session ended' });
    assert.equal(sessionCookie(response), undefined, 'the caller’s cookie is left alone');
    assert.equal(await profile(app, phone), 403, 'the phone is logged out');
    assert.equal(await profile(app, laptop), 200);
    assert.equal(await profile(app, stranger), 200);
    assert.deepEqual(await endReasons(auth, admin), ['revoked_by_user']);
  });

  test('another account’s session id is a 404 not_found and ends nothing', async () => {
    const { app, laptop, phone, stranger } = await twoDevicesAndAStranger();
    const strangersId = (await listOf(app, stranger))[0]?.id ?? '';
    for (const id of [strangersId, 'no-such-session', 'x'.repeat(100)]) {
      const response = await app.inject({
        method: 'DELETE',
        url: `/profile/sessions/${id}`,
        ...asSession(laptop),
      });
      assert.equal(response.statusCode, 404, id);
      assert.equal(response.json<{ code: string }>().code, 'not_found');
    }
    assert.equal(await profile(app, stranger), 200, 'the stranger’s session lives on');
    assert.equal((await listOf(app, stranger)).length, 1);
    assert.equal((await listOf(app, laptop)).length, 2);
    assert.equal(await profile(app, phone), 200);
  });

  test('an ended session’s id is a 404 too', async () => {
    const { app, laptop, phone } = await twoDevicesAndAStranger();
    const phoneId = (await listOf(app, phone)).find((session) => session.current)?.id ?? '';
    await app.inject({ method: 'DELETE', url: '/sessions', ...asSession(phone) });
    const response = await app.inject({
      method: 'DELETE',
      url: `/profile/sessions/${phoneId}`,
      ...asSession(laptop),
    });
    assert.equal(response.statusCode, 404);
  });

  test('the caller’s own id logs out: the session ends and the cookie is cleared', async () => {
    const { app, auth, admin, laptop, phone } = await twoDevicesAndAStranger();
    const ownId = (await listOf(app, laptop)).find((session) => session.current)?.id ?? '';
    const response = await app.inject({
      method: 'DELETE',
      url: `/profile/sessions/${ownId}`,
      ...asSession(laptop),
    });
    assert.equal(response.statusCode, 200);
    const cleared = response.cookies.find((cookie) => cookie.name === 'session_id');
    assert.equal(cleared?.value, '');
    assert.equal(await profile(app, laptop), 403);
    assert.equal(await profile(app, phone), 200);
    assert.deepEqual(await endReasons(auth, admin), ['logout']);
  });

  test('without a live session is 403 session_required and ends nothing', async () => {
    const { app, laptop, phone } = await twoDevicesAndAStranger();
    const phoneId = (await listOf(app, laptop)).find((session) => !session.current)?.id ?? '';
    const response = await app.inject({ method: 'DELETE', url: `/profile/sessions/${phoneId}` });
    assert.equal(response.statusCode, 403);
    assert.equal(response.json<{ code: string }>().code, 'session_required');
    assert.equal(await profile(app, phone), 200);
  });

  test('a cross-site request is refused and ends nothing', async () => {
    const { app, laptop, phone } = await twoDevicesAndAStranger();
    const phoneId = (await listOf(app, laptop)).find((session) => !session.current)?.id ?? '';
    for (const headers of [
      { origin: 'https://evil.example' },
      { 'sec-fetch-site': 'cross-site' },
    ]) {
      const response = await app.inject({
        method: 'DELETE',
        url: `/profile/sessions/${phoneId}`,
        headers,
        ...asSession(laptop),
      });
      assert.equal(response.statusCode, 403);
      assert.equal(response.json<{ code: string }>().code, 'cross_site_request');
    }
    assert.equal(await profile(app, phone), 200);
  });
});

describe('DELETE /profile/sessions', () => {
  test('ends every session of the account but the caller’s, and says how many', async () => {
    const { app, auth, admin, laptop, phone, stranger } = await twoDevicesAndAStranger();
    const tablet = await logIn(app, 'tablet/1.0');
    const response = await app.inject({
      method: 'DELETE',
      url: '/profile/sessions',
      ...asSession(laptop),
    });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { message: 'other sessions ended', ended: 2 });
    const left = await listOf(app, laptop);
    assert.deepEqual(
      left.map((session) => session.current),
      [true],
      'only the caller’s is left',
    );
    assert.equal(await profile(app, phone), 403);
    assert.equal(await profile(app, tablet), 403);
    assert.equal(await profile(app, stranger), 200, 'another account is untouched');
    assert.deepEqual(await endReasons(auth, admin), ['revoked_by_user', 'revoked_by_user']);
    const again = await app.inject({
      method: 'DELETE',
      url: '/profile/sessions',
      ...asSession(laptop),
    });
    assert.deepEqual(again.json(), { message: 'other sessions ended', ended: 0 });
  });

  test('without a live session is 403 session_required', async () => {
    const { app, phone } = await twoDevicesAndAStranger();
    const response = await app.inject({ method: 'DELETE', url: '/profile/sessions' });
    assert.equal(response.statusCode, 403);
    assert.equal(response.json<{ code: string }>().code, 'session_required');
    assert.equal(await profile(app, phone), 200);
  });

  test('a cross-site request is refused and ends nothing', async () => {
    const { app, laptop, phone } = await twoDevicesAndAStranger();
    const response = await app.inject({
      method: 'DELETE',
      url: '/profile/sessions',
      headers: { origin: 'https://evil.example' },
      ...asSession(laptop),
    });
    assert.equal(response.statusCode, 403);
    assert.equal(response.json<{ code: string }>().code, 'cross_site_request');
    assert.equal(await profile(app, phone), 200);
    assert.equal((await listOf(app, laptop)).length, 2);
  });
});

describe('the account page’s devices', () => {
  const accountPage = (app: FastifyInstance, token: string) =>
    app.inject({
      method: 'GET',
      url: '/account',
      headers: { accept: 'text/html' },
      ...asSession(token),
    });

  test('lists each device by browser and system, its address, when last seen, this device', async () => {
    const { app, clock, laptop } = await twoDevicesAndAStranger();
    clock.advanceSeconds(5 * 60);
    const page = await accountPage(app, laptop);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<h2 id="devices-heading">Your devices<\/h2>/);
    assert.match(page.body, /Firefox on Windows/);
    assert.match(page.body, /Safari on iOS/);
    assert.match(page.body, /127\.0\.0\.1/);
    // The laptop's visit is recorded as it asks; the phone was last seen at its login.
    assert.match(page.body, />now<\/time>/);
    assert.match(page.body, />6 minutes ago<\/time>/);
    assert.match(page.body, /This device/);
    // One end button, for the phone, named for it; and "Log out everywhere else".
    assert.equal(page.body.match(/action="\/account\/sessions\/end"/g)?.length, 1);
    assert.match(
      page.body,
      /End session<span class="visually-hidden">\s+on Safari on iOS, 127\.0\.0\.1/,
    );
    assert.match(page.body, /Log out everywhere else/);
    assert.ok(!page.body.includes(laptop), 'no token on the page');
  });

  test('a device’s button ends that session, then back to the account page', async () => {
    const { app, auth, admin, laptop, phone } = await twoDevicesAndAStranger();
    const phoneId = (await listOf(app, laptop)).find((session) => !session.current)?.id ?? '';
    const response = await app.inject({
      method: 'POST',
      url: '/account/sessions/end',
      ...asSession(laptop),
      ...formBody({ id: phoneId }),
    });
    assert.equal(response.statusCode, 303);
    assert.equal(response.headers.location, '/account?notice=session_ended');
    assert.equal(await profile(app, phone), 403);
    assert.equal(await profile(app, laptop), 200);
    assert.deepEqual(await endReasons(auth, admin), ['revoked_by_user']);
    const shown = await app.inject({
      method: 'GET',
      url: '/account?notice=session_ended',
      headers: { accept: 'text/html' },
      ...asSession(laptop),
    });
    assert.match(shown.body, /That session was ended/);
    assert.doesNotMatch(shown.body, /Safari on iOS/);
  });

  test('another account’s session id on the page ends nothing', async () => {
    const { app, laptop, stranger } = await twoDevicesAndAStranger();
    const strangersId = (await listOf(app, stranger))[0]?.id ?? '';
    const response = await app.inject({
      method: 'POST',
      url: '/account/sessions/end',
      ...asSession(laptop),
      ...formBody({ id: strangersId }),
    });
    assert.equal(response.statusCode, 303);
    assert.equal(response.headers.location, '/account?notice=session_gone');
    assert.equal(await profile(app, stranger), 200);
  });

  test('"Log out everywhere else" ends every other session of the account', async () => {
    const { app, laptop, phone, stranger } = await twoDevicesAndAStranger();
    const response = await app.inject({
      method: 'POST',
      url: '/account/sessions/end-others',
      ...asSession(laptop),
      ...formBody({}),
    });
    assert.equal(response.statusCode, 303);
    assert.equal(response.headers.location, '/account?notice=others_ended');
    assert.equal(await profile(app, phone), 403);
    assert.equal(await profile(app, laptop), 200);
    assert.equal(await profile(app, stranger), 200);
  });

  test('the forms refuse a post that does not come from the service’s own pages', async () => {
    const { app, laptop, phone } = await twoDevicesAndAStranger();
    const phoneId = (await listOf(app, laptop)).find((session) => !session.current)?.id ?? '';
    for (const [url, fields] of [
      ['/account/sessions/end', { id: phoneId }],
      ['/account/sessions/end-others', {}],
    ] as const) {
      for (const headers of [{}, { origin: 'https://evil.example' }] as Record<string, string>[]) {
        const response = await app.inject({
          method: 'POST',
          url,
          ...asSession(laptop),
          ...formBody(fields, headers),
        });
        assert.equal(response.statusCode, 403, url);
      }
    }
    assert.equal(await profile(app, phone), 200);
  });

  test('without a session, the forms send to the login page', async () => {
    const { app } = await startTestService();
    for (const url of ['/account/sessions/end', '/account/sessions/end-others']) {
      const response = await app.inject({
        method: 'POST',
        url,
        ...formBody({ id: 'x' }),
      });
      assert.equal(response.statusCode, 303);
      assert.equal(response.headers.location, '/login');
    }
  });
});

describe('the audit trail of sessions', () => {
  test('session_started names the session by its public id; each way a session ends has its reason', async () => {
    const { app, auth, admin, clock } = await startTestService({ SESSIONS_PER_USER: '2' });
    const first = await signUpAndLogIn(app, EMAIL, PASSWORD);
    const ids = (await listOf(app, first)).map((session) => session.id);
    await auth.drain();
    const started = await admin.events({ email: EMAIL, type: 'session_started', limit: 10 });
    assert.deepEqual(
      started.map((event) => event.sessionId),
      ids,
    );
    assert.ok(!JSON.stringify(started).includes(first), 'never the token');

    // logout
    await app.inject({ method: 'DELETE', url: '/sessions', ...asSession(first) });
    // over_cap: a third session with a cap of two ends the least recently seen
    const a = await logIn(app, 'a');
    clock.advanceSeconds(1);
    await logIn(app, 'b');
    clock.advanceSeconds(1);
    const c = await logIn(app, 'c');
    assert.equal(await profile(app, a), 403);
    // revoked_by_user, then password_change (of b, changing from c)
    const bId = (await listOf(app, c)).find((session) => !session.current)?.id ?? '';
    await app.inject({ method: 'DELETE', url: `/profile/sessions/${bId}`, ...asSession(c) });
    const d = await logIn(app, 'd');
    const changed = await app.inject({
      method: 'PUT',
      url: '/profile/password',
      ...asSession(c),
      ...formBody({ current_password: PASSWORD, new_password: NEW_PASSWORD }),
    });
    assert.equal(changed.statusCode, 200, changed.body);
    assert.equal(await profile(app, d), 403);
    // password_reset
    const token = await auth.getResetPasswordToken(EMAIL);
    await auth.updatePassword(token, PASSWORD);
    // revoked_by_operator
    await logIn(app, 'e');
    await admin.revokeSessions(EMAIL);
    // account_deleted, from the API and from the CLI's admin
    const f = await logIn(app, 'f');
    await app.inject({
      method: 'DELETE',
      url: '/profile',
      ...asSession(f),
      ...formBody({ password: PASSWORD }),
    });
    assert.deepEqual(await endReasons(auth, admin), [
      'logout',
      'over_cap',
      'revoked_by_user',
      'password_change',
      'password_reset',
      'revoked_by_operator',
      'account_deleted',
    ]);

    await submit(app, 'POST', '/users', { email: 'gone@example.com', password: PASSWORD });
    await logIn(app, 'g', 'gone@example.com');
    await admin.deleteUser('gone@example.com');
    assert.deepEqual(await endReasons(auth, admin, 'gone@example.com'), ['account_deleted']);
  });
});

/** A form post's body and headers, by default those of a post from the service's own page. */
function formBody(fields: Record<string, string>, headers: Record<string, string> = OWN_PAGE) {
  return {
    headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(fields).toString(),
  };
}
