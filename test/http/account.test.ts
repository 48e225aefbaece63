/**
 * Account self-service through the API (PUT /profile/password, DELETE /profile) and the web
 * pages' HTTP behaviour: content negotiation on / and /reset_password, security headers, and the
 * refusal of form posts that do not come from the service's own pages.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import {
  form,
  sessionCookie,
  signUpAndLogIn,
  startTestService,
  submit,
} from '../support/service.js';

const EMAIL = 'self@example.com';
const PASSWORD = 'correct horse';
const NEW_PASSWORD = 'battery staple';

function changePassword(app: FastifyInstance, sessionId: string, fields: Record<string, string>) {
  return app.inject({
    method: 'PUT',
    url: '/profile/password',
    cookies: { session_id: sessionId },
    ...form(fields),
  });
}

function deleteAccount(app: FastifyInstance, sessionId: string, password: string) {
  return app.inject({
    method: 'DELETE',
    url: '/profile',
    cookies: { session_id: sessionId },
    ...form({ password }),
  });
}

const profile = (app: FastifyInstance, sessionId: string) =>
  app.inject({ method: 'GET', url: '/profile', cookies: { session_id: sessionId } });

describe('PUT /profile/password', () => {
  test('needs the current password; then a new session, the old one ended, and an email', async () => {
    const { app, auth, mailer, admin } = await startTestService();
    const sessionId = await signUpAndLogIn(app, EMAIL, PASSWORD);
    const wrong = await changePassword(app, sessionId, {
      current_password: 'not it',
      new_password: NEW_PASSWORD,
    });
    assert.equal(wrong.statusCode, 401);
    assert.equal(wrong.json<{ message: string }>().message, 'wrong password');
    const weak = await changePassword(app, sessionId, {
      current_password: PASSWORD,
      new_password: 'short',
    });
    assert.equal(weak.statusCode, 400);
    assert.match(weak.json<{ message: string }>().message, /at least 8 characters/);

    const changed = await changePassword(app, sessionId, {
      current_password: PASSWORD,
      new_password: NEW_PASSWORD,
    });
    assert.equal(changed.statusCode, 200);
    assert.deepEqual(changed.json(), { email: EMAIL, message: 'password changed' });
    const newSession = sessionCookie(changed);
    assert.ok(newSession !== undefined && newSession !== sessionId);
    assert.equal((await profile(app, sessionId)).statusCode, 403, 'the old session ended');
    assert.equal((await profile(app, newSession)).statusCode, 200);
    const logIn = (password: string) =>
      submit(app, 'POST', '/sessions', { email: EMAIL, password });
    assert.equal((await logIn(PASSWORD)).statusCode, 401);
    assert.equal((await logIn(NEW_PASSWORD)).statusCode, 200);

    await auth.drain();
    assert.equal(mailer.sent.length, 1);
    const [mail] = mailer.sent;
    assert.ok(mail);
    assert.equal(mail.subject, 'Your password was changed');
    assert.equal(mail.to, EMAIL);
    assert.match(mail.text, /http:\/\/auth\.test\/forgot/);
    const types = (await admin.events({ email: EMAIL, limit: 20 })).map((event) => event.type);
    assert.ok(types.includes('password_changed'));
  });

  test('without a live session it is 403', async () => {
    const { app } = await startTestService();
    const fields = { current_password: PASSWORD, new_password: NEW_PASSWORD };
    assert.equal((await changePassword(app, crypto.randomUUID(), fields)).statusCode, 403);
    const none = await app.inject({ method: 'PUT', url: '/profile/password', ...form(fields) });
    assert.equal(none.statusCode, 403);
  });

  test('wrong current passwords count toward the per-email login throttle', async () => {
    const { app } = await startTestService({ RATE_LIMIT: 'on', LOGIN_THROTTLE_AFTER: '2' });
    const sessionId = await signUpAndLogIn(app, EMAIL, PASSWORD);
    const attempt = (current: string) =>
      changePassword(app, sessionId, { current_password: current, new_password: NEW_PASSWORD });
    assert.equal((await attempt('wrong 1')).statusCode, 401);
    assert.equal((await attempt('wrong 2')).statusCode, 401);
    const throttled = await attempt(PASSWORD);
    assert.equal(throttled.statusCode, 429);
    assert.ok(Number(throttled.headers['retry-after']) >= 1);
    const login = await submit(app, 'POST', '/sessions', { email: EMAIL, password: PASSWORD });
    assert.equal(login.statusCode, 429, 'the same throttle as logins');
  });

  test('has a per-client rate limit', async () => {
    const { app } = await startTestService({ RATE_LIMIT: 'on', RATE_LIMIT_ACCOUNT: '2/60' });
    const sessionId = await signUpAndLogIn(app, EMAIL, PASSWORD);
    const statuses = [];
    for (let i = 0; i < 3; i += 1) {
      statuses.push((await deleteAccount(app, sessionId, `wrong ${i}`)).statusCode);
    }
    assert.deepEqual(statuses, [401, 401, 429]);
  });

  test('a cross-site request is refused and leaves the password and the session unchanged', async () => {
    const { app } = await startTestService();
    const sessionId = await signUpAndLogIn(app, EMAIL, PASSWORD);
    const response = await app.inject({
      method: 'PUT',
      url: '/profile/password',
      cookies: { session_id: sessionId },
      headers: { origin: 'https://evil.example' },
      payload: { current_password: PASSWORD, new_password: NEW_PASSWORD },
    });
    assert.equal(response.statusCode, 403);
    assert.equal(response.json<{ code: string }>().code, 'cross_site_request');
    assert.equal(sessionCookie(response), undefined, 'no new cookie');
    assert.equal((await profile(app, sessionId)).statusCode, 200, 'the session lives on');
    const logIn = (password: string) =>
      submit(app, 'POST', '/sessions', { email: EMAIL, password });
    assert.equal((await logIn(NEW_PASSWORD)).statusCode, 401, 'the new password was not set');
    assert.equal((await logIn(PASSWORD)).statusCode, 200, 'the old one still works');
  });

  test('a refused field leaves the account and its sessions as they were', async () => {
    const { app } = await startTestService();
    const sessionId = await signUpAndLogIn(app, EMAIL, PASSWORD);
    const other = sessionCookie(
      await submit(app, 'POST', '/sessions', { email: EMAIL, password: PASSWORD }),
    );
    assert.ok(other !== undefined);
    const refusals = [
      await changePassword(app, sessionId, {
        current_password: PASSWORD,
        new_password: 'x'.repeat(5000),
      }),
      await changePassword(app, sessionId, { current_password: PASSWORD }),
      await app.inject({
        method: 'PUT',
        url: '/profile/password',
        cookies: { session_id: sessionId },
        payload: { current_password: PASSWORD, new_password: [NEW_PASSWORD, NEW_PASSWORD] },
      }),
      await app.inject({
        method: 'DELETE',
        url: '/profile',
        cookies: { session_id: sessionId },
        payload: { password: '' },
      }),
    ];
    assert.deepEqual(
      refusals.map((response) => [response.statusCode, response.json<{ code: string }>().code]),
      [
        [400, 'field_too_long'],
        [400, 'missing_field'],
        [400, 'field_not_text'],
        [400, 'empty_field'],
      ],
    );
    for (const response of refusals) assert.equal(sessionCookie(response), undefined);
    for (const session of [sessionId, other]) {
      assert.equal((await profile(app, session)).statusCode, 200, 'every session lives on');
    }
    const logIn = (password: string) =>
      submit(app, 'POST', '/sessions', { email: EMAIL, password });
    assert.equal((await logIn(NEW_PASSWORD)).statusCode, 401);
    assert.equal((await logIn(PASSWORD)).statusCode, 200, 'the account and its password stay');
  });
});

describe('DELETE /profile', () => {
  test('needs the password; then the account and its session are gone', async () => {
    const { app, admin } = await startTestService();
    const sessionId = await signUpAndLogIn(app, EMAIL, PASSWORD);
    assert.equal((await deleteAccount(app, sessionId, 'wrong')).statusCode, 401);
    const deleted = await deleteAccount(app, sessionId, PASSWORD);
    assert.equal(deleted.statusCode, 200);
    assert.deepEqual(deleted.json(), { email: EMAIL, message: 'account deleted' });
    const cleared = deleted.cookies.find((cookie) => cookie.name === 'session_id');
    assert.equal(cleared?.value, '');
    assert.equal((await profile(app, sessionId)).statusCode, 403);
    const login = await submit(app, 'POST', '/sessions', { email: EMAIL, password: PASSWORD });
    assert.equal(login.statusCode, 401);
    const events = await admin.events({ type: 'account_deleted', limit: 5 });
    assert.equal(events[0]?.email, EMAIL);
    assert.equal((await deleteAccount(app, sessionId, PASSWORD)).statusCode, 403);
  });

  test('a missing password field is 400', async () => {
    const { app } = await startTestService();
    const sessionId = await signUpAndLogIn(app, EMAIL, PASSWORD);
    const response = await app.inject({
      method: 'DELETE',
      url: '/profile',
      cookies: { session_id: sessionId },
      ...form({}),
    });
    assert.equal(response.statusCode, 400);
  });
});

describe('web pages over HTTP', () => {
  const html = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

  test('API clients keep the JSON of / and GET /reset_password; browsers get pages', async () => {
    const { app } = await startTestService();
    const json = await app.inject({ method: 'GET', url: '/' });
    assert.equal(json.body, '{"message":"Bienvenue"}');
    const jsonAccept = await app.inject({
      method: 'GET',
      url: '/',
      headers: { accept: 'application/json' },
    });
    assert.deepEqual(jsonAccept.json(), { message: 'Bienvenue' });
    const reset = await app.inject({ method: 'GET', url: '/reset_password?token=abc' });
    assert.match(reset.json<{ message: string }>().message, /PUT \/reset_password/);

    const page = await app.inject({ method: 'GET', url: '/', headers: html });
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(page.body, /href="\/signup"/);
    const resetPage = await app.inject({
      method: 'GET',
      url: '/reset_password?token=%22%3E%3Cscript%3E',
      headers: html,
    });
    assert.match(resetPage.body, /name="token" value="&quot;&gt;&lt;script&gt;"/, 'escaped');
    assert.doesNotMatch(resetPage.body, /<script/);
  });

  test('pages carry a CSP without inline scripts, no-referrer, no-store; /docs keeps working', async () => {
    const { app } = await startTestService();
    for (const url of ['/', '/login', '/signup', '/forgot', '/reset_password?token=x']) {
      const page = await app.inject({ method: 'GET', url, headers: html });
      assert.equal(page.statusCode, 200, url);
      const csp = String(page.headers['content-security-policy']);
      assert.match(csp, /script-src 'self'/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.doesNotMatch(csp, /unsafe-inline/);
      assert.equal(page.headers['referrer-policy'], 'no-referrer');
      assert.equal(page.headers['cache-control'], 'no-store');
    }
    const css = await app.inject({ method: 'GET', url: '/style.css' });
    assert.match(String(css.headers['content-type']), /^text\/css/);
    const docs = await app.inject({ method: 'GET', url: '/docs/' });
    assert.equal(docs.headers['content-security-policy'], undefined);
  });

  test('a form post must come from our own pages', async () => {
    const { app } = await startTestService();
    const post = (headers: Record<string, string>) =>
      app.inject({
        method: 'POST',
        url: '/signup',
        headers: { ...form({}).headers, ...html, ...headers },
        payload: new URLSearchParams({ email: EMAIL, password: PASSWORD }).toString(),
      });
    const bare = await post({});
    assert.equal(bare.statusCode, 403);
    assert.match(String(bare.headers['content-type']), /^text\/html/);
    assert.equal((await post({ origin: 'https://evil.example' })).statusCode, 403);
    assert.equal((await post({ origin: 'null', 'sec-fetch-site': 'cross-site' })).statusCode, 403);
    // Under Referrer-Policy: no-referrer, browsers send Origin: null with their own posts.
    const own = await post({ origin: 'null', 'sec-fetch-site': 'same-origin' });
    assert.equal(own.statusCode, 303);
    assert.equal(own.headers.location, '/login?notice=created');
  });

  test('a refused login re-renders the form with 401 and the error tied to its field', async () => {
    const { app } = await startTestService();
    await signUpAndLogIn(app, EMAIL, PASSWORD);
    const response = await app.inject({
      method: 'POST',
      url: '/login',
      headers: { ...form({}).headers, origin: 'http://auth.test' },
      payload: new URLSearchParams({ email: EMAIL, password: 'wrong' }).toString(),
    });
    assert.equal(response.statusCode, 401);
    assert.match(response.body, /aria-invalid="true"/);
    assert.match(response.body, /aria-describedby="login-password-error"/);
    assert.match(response.body, /role="alert"/);
    assert.match(response.body, /value="self@example.com"/);
  });
});
