import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  form,
  sessionCookie,
  signUpAndLogIn,
  startTestService,
  submit,
} from '../support/service.js';

const EMAIL = 'bob@example.com';
const PASSWORD = 'correct horse';

describe('GET /', () => {
  test('answers the course greeting as JSON', async () => {
    const { app } = await startTestService();
    const response = await app.inject({ method: 'GET', url: '/' });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^application\/json/);
    assert.deepEqual(response.json(), { message: 'Bienvenue' });
  });

  test('every answer carries Cache-Control: no-store and nosniff', async () => {
    const { app } = await startTestService();
    for (const url of ['/', '/profile', '/missing']) {
      const response = await app.inject({ method: 'GET', url });
      assert.equal(response.headers['cache-control'], 'no-store', url);
      assert.equal(response.headers['x-content-type-options'], 'nosniff', url);
    }
  });
});

describe('POST /users', () => {
  test('creates an account: 200 with the course body', async () => {
    const { app } = await startTestService();
    const response = await submit(app, 'POST', '/users', { email: EMAIL, password: PASSWORD });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { email: EMAIL, message: 'user created' });
  });

  test('a second sign-up with the same email (any case) is 400 with exactly the course body', async () => {
    const { app } = await startTestService();
    await submit(app, 'POST', '/users', { email: EMAIL, password: PASSWORD });
    const again = await submit(app, 'POST', '/users', {
      email: ' BOB@example.com ',
      password: 'another one',
    });
    assert.equal(again.statusCode, 400);
    assert.equal(again.body, '{"message":"email already registered"}');
  });

  test('accepts multipart form data and JSON bodies too', async () => {
    const { app } = await startTestService();
    const boundary = 'X-BOUNDARY';
    const payload = [
      `--${boundary}`,
      'Content-Disposition: form-data; name="email"',
      '',
      'multi@example.com',
      `--${boundary}`,
      'Content-Disposition: form-data; name="password"',
      '',
      PASSWORD,
      `--${boundary}--`,
      '',
    ].join('\r\n');
    const multipart = await app.inject({
      method: 'POST',
      url: '/users',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload,
    });
    assert.equal(multipart.statusCode, 200, multipart.body);
    assert.equal(multipart.json<{ email: string }>().email, 'multi@example.com');
    const json = await app.inject({
      method: 'POST',
      url: '/users',
      payload: { email: 'json@example.com', password: PASSWORD },
    });
    assert.equal(json.statusCode, 200, json.body);
    assert.equal(json.json<{ email: string }>().email, 'json@example.com');
  });

  test('an invalid email or a weak password is 400 with a message saying why', async () => {
    const { app } = await startTestService();
    const cases = [
      [{ email: 'not-an-email', password: PASSWORD }, /email/i],
      [{ email: EMAIL, password: 'short' }, /at least 8 characters/],
      [{ email: EMAIL, password: 'x'.repeat(73) }, /at most 72 bytes/],
      [{ email: EMAIL, password: 'abcdefgh\u0000ijk' }, /NUL/],
    ] as const;
    for (const [fields, message] of cases) {
      const response = await app.inject({ method: 'POST', url: '/users', payload: fields });
      assert.equal(response.statusCode, 400, JSON.stringify(fields));
      assert.match(response.json<{ message: string }>().message, message);
    }
  });

  test('concurrent sign-ups of one address: exactly one 200, the rest 400', async () => {
    const { app } = await startTestService();
    const responses = await Promise.all(
      Array.from({ length: 8 }, () =>
        submit(app, 'POST', '/users', { email: EMAIL, password: PASSWORD }),
      ),
    );
    const codes = responses.map((response) => response.statusCode).sort();
    assert.deepEqual(codes, [200, 400, 400, 400, 400, 400, 400, 400]);
  });
});

describe('POST /sessions', () => {
  test('logs in: 200 with the course body and a session_id cookie with safe attributes', async () => {
    const { app } = await startTestService({ SESSION_TTL: '3600' });
    await submit(app, 'POST', '/users', { email: EMAIL, password: PASSWORD });
    const response = await submit(app, 'POST', '/sessions', { email: EMAIL, password: PASSWORD });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { email: EMAIL, message: 'logged in' });
    const cookie = response.cookies.find((c) => c.name === 'session_id');
    assert.ok(cookie);
    assert.match(
      cookie.value,
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Lax');
    assert.equal(cookie.path, '/');
    assert.equal(cookie.maxAge, 3600);
    assert.notEqual(cookie.secure, true, 'not Secure when PUBLIC_URL is http');
  });

  test('the cookie is Secure when PUBLIC_URL is https', async () => {
    const { app } = await startTestService({ PUBLIC_URL: 'https://auth.example.org' });
    await submit(app, 'POST', '/users', { email: EMAIL, password: PASSWORD });
    const response = await submit(app, 'POST', '/sessions', { email: EMAIL, password: PASSWORD });
    assert.equal(response.cookies.find((c) => c.name === 'session_id')?.secure, true);
  });

  test('wrong password and unknown email are both 401 with the same body', async () => {
    const { app } = await startTestService();
    await submit(app, 'POST', '/users', { email: EMAIL, password: PASSWORD });
    const wrong = await submit(app, 'POST', '/sessions', {
      email: EMAIL,
      password: 'wrong password',
    });
    const unknown = await submit(app, 'POST', '/sessions', {
      email: 'nobody@example.com',
      password: PASSWORD,
    });
    assert.equal(wrong.statusCode, 401);
    assert.equal(unknown.statusCode, 401);
    // The same answer but for the request id, which every answer has its own of.
    const withoutId = (body: string) => ({ ...(JSON.parse(body) as object), requestId: 'x' });
    assert.deepEqual(withoutId(wrong.body), withoutId(unknown.body));
    assert.equal(sessionCookie(wrong), undefined);
    assert.equal(sessionCookie(unknown), undefined);
  });

  test('a session id sent by the client is never adopted: every login issues a new one', async () => {
    const { app } = await startTestService();
    const first = await signUpAndLogIn(app, EMAIL, PASSWORD);
    const planted = crypto.randomUUID();
    const login = await app.inject({
      method: 'POST',
      url: '/sessions',
      cookies: { session_id: planted },
      ...form({ email: EMAIL, password: PASSWORD }),
    });
    const second = sessionCookie(login);
    assert.ok(second !== undefined && second !== first && second !== planted);
    const profile = (id: string) =>
      app.inject({ method: 'GET', url: '/profile', cookies: { session_id: id } });
    assert.equal((await profile(planted)).statusCode, 403);
    assert.equal((await profile(first)).statusCode, 200, 'the previous session stays live');
    assert.equal((await profile(second)).statusCode, 200);
  });
});

describe('GET /profile', () => {
  test('with a live session: 200 with the email', async () => {
    const { app } = await startTestService();
    const sessionId = await signUpAndLogIn(app, EMAIL, PASSWORD);
    const response = await app.inject({
      method: 'GET',
      url: '/profile',
      cookies: { session_id: sessionId },
    });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { email: EMAIL, two_factor: false, email_verified: false });
  });

  test('without a cookie, or with an unknown one, is 403', async () => {
    const { app } = await startTestService();
    await signUpAndLogIn(app, EMAIL, PASSWORD);
    const none = await app.inject({ method: 'GET', url: '/profile' });
    const unknown = await app.inject({
      method: 'GET',
      url: '/profile',
      cookies: { session_id: crypto.randomUUID() },
    });
    assert.equal(none.statusCode, 403);
    assert.equal(unknown.statusCode, 403);
    assert.equal(typeof none.json<{ message: string }>().message, 'string');
  });

  test('with an expired session is 403', async () => {
    const { app, clock } = await startTestService({
      SESSION_TTL: '7200',
      SESSION_IDLE_TTL: '1800',
    });
    const sessionId = await signUpAndLogIn(app, EMAIL, PASSWORD);
    clock.advanceSeconds(1800);
    const idle = await app.inject({
      method: 'GET',
      url: '/profile',
      cookies: { session_id: sessionId },
    });
    assert.equal(idle.statusCode, 403);
  });
});

describe('DELETE /sessions', () => {
  test('with a live session: ends it, clears the cookie and redirects (302) to /', async () => {
    const { app } = await startTestService();
    const sessionId = await signUpAndLogIn(app, EMAIL, PASSWORD);
    const response = await app.inject({
      method: 'DELETE',
      url: '/sessions',
      cookies: { session_id: sessionId },
    });
    assert.equal(response.statusCode, 302);
    assert.equal(response.headers.location, '/');
    const cleared = response.cookies.find((c) => c.name === 'session_id');
    assert.ok(cleared);
    assert.equal(cleared.value, '');
    assert.ok(cleared.expires !== undefined && cleared.expires.getTime() <= Date.now());
    assert.equal(cleared.httpOnly, true);
    const profile = await app.inject({
      method: 'GET',
      url: '/profile',
      cookies: { session_id: sessionId },
    });
    assert.equal(profile.statusCode, 403);
  });

  test('without a live session is 403, also the second time', async () => {
    const { app } = await startTestService();
    const sessionId = await signUpAndLogIn(app, EMAIL, PASSWORD);
    const none = await app.inject({ method: 'DELETE', url: '/sessions' });
    assert.equal(none.statusCode, 403);
    await app.inject({ method: 'DELETE', url: '/sessions', cookies: { session_id: sessionId } });
    const again = await app.inject({
      method: 'DELETE',
      url: '/sessions',
      cookies: { session_id: sessionId },
    });
    assert.equal(again.statusCode, 403);
  });
});

describe('POST /reset_password (default: token by email)', () => {
  test('answers the same for known and unknown emails, and emails only the account holder', async () => {
    const { app, auth, mailer } = await startTestService();
    await signUpAndLogIn(app, EMAIL, PASSWORD);
    const known = await submit(app, 'POST', '/reset_password', { email: EMAIL });
    const unknown = await submit(app, 'POST', '/reset_password', { email: 'nobody@example.com' });
    await auth.drain();
    assert.equal(known.statusCode, 200);
    assert.equal(unknown.statusCode, 200);
    const { email: knownEmail, ...knownRest } = known.json<Record<string, string>>();
    const { email: unknownEmail, ...unknownRest } = unknown.json<Record<string, string>>();
    assert.deepEqual([knownEmail, unknownEmail], [EMAIL, 'nobody@example.com']);
    assert.deepEqual(knownRest, unknownRest);
    assert.ok(!('reset_token' in knownRest));
    assert.equal(mailer.sent.length, 1);
    assert.equal(mailer.sent[0]?.to, EMAIL);
    assert.match(mailer.sent[0].text, /http:\/\/auth\.test\/reset_password\?token=[0-9a-f-]{36}/);
  });

  test('the link is built from PUBLIC_URL, never from the Host header', async () => {
    const { app, auth, mailer } = await startTestService({ PUBLIC_URL: 'https://id.example.org' });
    await signUpAndLogIn(app, EMAIL, PASSWORD);
    await app.inject({
      method: 'POST',
      url: '/reset_password',
      headers: {
        ...form({}).headers,
        host: 'evil.example',
        'x-forwarded-host': 'evil.example',
      },
      payload: form({ email: EMAIL }).payload,
    });
    await auth.drain();
    assert.match(mailer.sent[0]?.text ?? '', /https:\/\/id\.example\.org\/reset_password\?token=/);
    assert.ok(!(mailer.sent[0]?.text ?? '').includes('evil'));
  });
});

describe('GET /reset_password (the emailed link)', () => {
  test('opening the link answers instructions and does not use the token', async () => {
    const { app, auth, mailer } = await startTestService();
    await signUpAndLogIn(app, EMAIL, PASSWORD);
    await submit(app, 'POST', '/reset_password', { email: EMAIL });
    await auth.drain();
    const link = new URL(/http:\/\/\S+/.exec(mailer.sent[0]?.text ?? '')?.[0] ?? '');
    const token = link.searchParams.get('token') ?? '';
    for (let i = 0; i < 3; i += 1) {
      const opened = await app.inject({ method: 'GET', url: `${link.pathname}${link.search}` });
      assert.equal(opened.statusCode, 200);
      assert.match(opened.json<{ message: string }>().message, /PUT \/reset_password/);
    }
    const update = await submit(app, 'PUT', '/reset_password', {
      email: EMAIL,
      reset_token: token,
      new_password: 'brand new pass',
    });
    assert.equal(update.statusCode, 200);
  });
});

describe('reset with RESET_TOKEN_IN_RESPONSE=true (the course contract)', () => {
  test('POST returns the token; unknown email is 403; PUT updates the password once', async () => {
    const { app } = await startTestService({ RESET_TOKEN_IN_RESPONSE: 'true' });
    await signUpAndLogIn(app, EMAIL, PASSWORD);
    const unknown = await submit(app, 'POST', '/reset_password', { email: 'x@example.com' });
    assert.equal(unknown.statusCode, 403);
    const reset = await submit(app, 'POST', '/reset_password', { email: EMAIL });
    assert.equal(reset.statusCode, 200);
    const body = reset.json<{ email: string; reset_token: string }>();
    assert.equal(body.email, EMAIL);
    const update = () =>
      submit(app, 'PUT', '/reset_password', {
        email: EMAIL,
        reset_token: body.reset_token,
        new_password: 'brand new pass',
      });
    const first = await update();
    assert.equal(first.statusCode, 200);
    assert.deepEqual(first.json(), { email: EMAIL, message: 'Password updated' });
    assert.equal((await update()).statusCode, 403, 'a token works once');
    const login = await submit(app, 'POST', '/sessions', {
      email: EMAIL,
      password: 'brand new pass',
    });
    assert.equal(login.statusCode, 200);
  });
});

describe('PUT /reset_password', () => {
  test("a token presented with another account's email is 403 and changes nothing", async () => {
    const { app, auth } = await startTestService();
    await signUpAndLogIn(app, EMAIL, PASSWORD);
    await signUpAndLogIn(app, 'eve@example.com', 'eve password');
    const token = await auth.getResetPasswordToken(EMAIL);
    const response = await submit(app, 'PUT', '/reset_password', {
      email: 'eve@example.com',
      reset_token: token,
      new_password: 'hijacked pw',
    });
    assert.equal(response.statusCode, 403);
    assert.equal(await auth.validLogin('eve@example.com', 'eve password'), true);
    assert.equal(await auth.validLogin(EMAIL, PASSWORD), true);
  });

  test('a missing reset_token is 400 and never resets anybody', async () => {
    const { app, auth } = await startTestService();
    await signUpAndLogIn(app, EMAIL, PASSWORD);
    const response = await submit(app, 'PUT', '/reset_password', {
      email: EMAIL,
      new_password: 'hijacked pw',
    });
    assert.equal(response.statusCode, 400);
    assert.equal(await auth.validLogin(EMAIL, PASSWORD), true);
  });

  test('a completed reset ends the live session', async () => {
    const { app, auth } = await startTestService();
    const sessionId = await signUpAndLogIn(app, EMAIL, PASSWORD);
    const token = await auth.getResetPasswordToken(EMAIL);
    const response = await submit(app, 'PUT', '/reset_password', {
      email: EMAIL,
      reset_token: token,
      new_password: 'brand new pass',
    });
    assert.equal(response.statusCode, 200);
    const profile = await app.inject({
      method: 'GET',
      url: '/profile',
      cookies: { session_id: sessionId },
    });
    assert.equal(profile.statusCode, 403);
  });

  test('a weak new password is 400 and leaves the token usable', async () => {
    const { app, auth } = await startTestService();
    await signUpAndLogIn(app, EMAIL, PASSWORD);
    const token = await auth.getResetPasswordToken(EMAIL);
    const put = (newPassword: string) =>
      submit(app, 'PUT', '/reset_password', {
        email: EMAIL,
        reset_token: token,
        new_password: newPassword,
      });
    assert.equal((await put('short')).statusCode, 400);
    assert.equal((await put('long enough')).statusCode, 200);
  });
});
