/**
 * Email addresses through the front door, on the engine under test: malformed login emails (a
 * NUL byte, 8,000 characters) through the API and the pages, normalization that an account can
 * log in with, and look-alike addresses, which are refused at sign-up or are the account they
 * look like.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { inspectableDatabase, type InspectableDatabase } from '../support/databases.js';
import { CountingHasher } from '../support/fakes.js';
import { form, startTestService, submit } from '../support/service.js';

const PASSWORD = 'correct horse';
const NUL_EMAIL = 'bob\u0000@example.com';
const LONG_EMAIL = `${'b'.repeat(8000)}@example.com`;
/** Abuse protection on (so that failed logins write throttle rows), limits out of the way. */
const THROTTLED = {
  RATE_LIMIT: 'on',
  RATE_LIMIT_LOGIN: '1000/60',
  RATE_LIMIT_SIGNUP: '1000/60',
  RATE_LIMIT_RESET_REQUEST: '1000/60',
  RATE_LIMIT_RESET: '1000/60',
};

const signUp = (app: FastifyInstance, email: string, password = PASSWORD) =>
  app.inject({ method: 'POST', url: '/users', payload: { email, password } });
const logIn = (app: FastifyInstance, email: string, password = PASSWORD) =>
  app.inject({ method: 'POST', url: '/sessions', payload: { email, password } });
/** A post of one of our own pages, as a browser sends it. */
const pagePost = (app: FastifyInstance, url: string, fields: Record<string, string>) =>
  app.inject({
    method: 'POST',
    url,
    headers: { ...form(fields).headers, origin: 'http://auth.test' },
    payload: form(fields).payload,
  });

async function throttleRows(database: InspectableDatabase): Promise<number> {
  const [row] = await database.rows('SELECT count(*) AS n FROM throttles');
  return Number(row?.n);
}

describe('malformed login emails', () => {
  test('a NUL byte in the login email gets the API’s ordinary 401, and no throttle row is written', async () => {
    const database = await inspectableDatabase();
    const { app } = await startTestService({ ...THROTTLED, DATABASE_URL: database.url });
    assert.equal((await signUp(app, 'bob@example.com')).statusCode, 200);

    const nul = await logIn(app, NUL_EMAIL, 'wrong');
    assert.equal(nul.statusCode, 401);
    const wrong = await logIn(app, 'bob@example.com', 'wrong');
    assert.equal(wrong.statusCode, 401);
    const withoutId = (body: string) => ({ ...(JSON.parse(body) as object), requestId: 'x' });
    assert.deepEqual(withoutId(nul.body), withoutId(wrong.body));
    // Only the wrong password was counted.
    assert.equal(await throttleRows(database), 1);
    const asForm = await app.inject({
      method: 'POST',
      url: '/sessions',
      ...form({ email: NUL_EMAIL, password: 'wrong' }),
    });
    assert.equal(asForm.statusCode, 401);
    assert.equal(await throttleRows(database), 1);
  });

  test('an 8,000-character login email is refused by the API with 400, and no throttle row is written', async () => {
    const database = await inspectableDatabase();
    const { app } = await startTestService({ ...THROTTLED, DATABASE_URL: database.url });
    const long = await logIn(app, LONG_EMAIL, 'wrong');
    assert.equal(long.statusCode, 400);
    assert.match(long.json<{ message: string }>().message, /email is too long/);
    assert.equal(await throttleRows(database), 0);
  });

  test('the login page answers a NUL byte with its 401, 8,000 characters with 400, and writes no throttle row', async () => {
    const database = await inspectableDatabase();
    const { app } = await startTestService({ ...THROTTLED, DATABASE_URL: database.url });
    const nul = await pagePost(app, '/login', { email: NUL_EMAIL, password: 'wrong' });
    assert.equal(nul.statusCode, 401);
    assert.match(nul.body, /Wrong email or password/);
    const long = await pagePost(app, '/login', { email: LONG_EMAIL, password: 'wrong' });
    assert.equal(long.statusCode, 400);
    assert.match(long.body, /too long: at most 320 characters/);
    const longPassword = await pagePost(app, '/login', {
      email: 'bob@example.com',
      password: 'p'.repeat(8000),
    });
    assert.equal(longPassword.statusCode, 400);
    assert.equal(await throttleRows(database), 0);
    // Whereas an ordinary failure is counted: the throttle is on.
    assert.equal(
      (await pagePost(app, '/login', { email: 'bob@x.org', password: 'no' })).statusCode,
      401,
    );
    assert.equal(await throttleRows(database), 1);
  });

  test('the pages’ fields carry the API’s length limits', async () => {
    const { app } = await startTestService();
    const html = { accept: 'text/html' };
    const login = await app.inject({ method: 'GET', url: '/login', headers: html });
    assert.match(login.body, /name="email"[^>]* maxlength="320"/);
    assert.match(login.body, /name="password"[^>]* maxlength="1024"/);
    for (const url of ['/signup', '/forgot', '/reset_password?token=x']) {
      const page = await app.inject({ method: 'GET', url, headers: html });
      assert.match(page.body, /maxlength="(320|1024)"/, url);
    }
    const signUpPage = await pagePost(app, '/signup', {
      email: LONG_EMAIL,
      password: 'a long enough password',
    });
    assert.equal(signUpPage.statusCode, 400);
  });

  test('a malformed login email costs the same password comparison as an unknown one', async () => {
    const hasher = new CountingHasher();
    const { app } = await startTestService({}, { hasher });
    await logIn(app, 'nobody@example.com', 'wrong');
    const unknown = hasher.verifications.length;
    assert.equal(unknown, 1);
    await logIn(app, NUL_EMAIL, 'wrong');
    await pagePost(app, '/login', { email: 'no at sign', password: 'wrong' });
    assert.equal(hasher.verifications.length, 3);
  });

  test('reset requests, reset tokens and the course’s reset with such emails never answer 500', async () => {
    const { app } = await startTestService(THROTTLED);
    const course = await startTestService({ RESET_TOKEN_IN_RESPONSE: 'true' });
    for (const email of [NUL_EMAIL, `bob@example.com\u0000`, 'b\u0000'.repeat(150)]) {
      const request = await app.inject({
        method: 'POST',
        url: '/reset_password',
        payload: { email },
      });
      assert.equal(request.statusCode, 400, request.body);
      const courseRequest = await course.app.inject({
        method: 'POST',
        url: '/reset_password',
        payload: { email },
      });
      assert.equal(courseRequest.statusCode, 403, courseRequest.body);
      const update = await app.inject({
        method: 'PUT',
        url: '/reset_password',
        payload: {
          email,
          reset_token: '00000000-0000-4000-8000-000000000000',
          new_password: 'a long enough password',
        },
      });
      assert.equal(update.statusCode, 403, update.body);
      const forgot = await pagePost(app, '/forgot', { email });
      assert.equal(forgot.statusCode, 400);
      const reset = await pagePost(app, '/reset', {
        token: '00000000-0000-4000-8000-000000000000',
        email,
        new_password: 'a long enough password',
      });
      assert.equal(reset.statusCode, 403);
      const session = await course.auth.createSession(email);
      assert.equal(session, null);
    }
    assert.equal((await pagePost(app, '/forgot', { email: LONG_EMAIL })).statusCode, 400);
  });

  test('the reset page refuses a token longer than any, like a wrong one, without echoing it', async () => {
    const { app } = await startTestService();
    const token = `${'f'.repeat(8000)}-marker`;
    const reset = await pagePost(app, '/reset', {
      token,
      email: 'bob@example.com',
      new_password: 'a long enough password',
    });
    assert.equal(reset.statusCode, 403);
    assert.doesNotMatch(reset.body, /-marker/);
  });
});

describe('normalization', () => {
  test('an account signed up as T\u0308om logs in with either spelling, and the composed one is taken', async () => {
    const { app } = await startTestService();
    const created = await signUp(app, 'T\u0308om@example.com');
    assert.equal(created.statusCode, 200);
    assert.equal(created.json<{ email: string }>().email, '\u1e97om@example.com');
    assert.equal((await logIn(app, 'T\u0308om@example.com')).statusCode, 200);
    assert.equal((await logIn(app, '\u1e97om@example.com')).statusCode, 200);
    assert.equal((await logIn(app, 't\u0308om@example.com')).statusCode, 200);
    const twin = await signUp(app, '\u1e97om@example.com');
    assert.equal(twin.statusCode, 400);
    assert.deepEqual(twin.json(), { message: 'email already registered' });
  });
});

describe('look-alike addresses beside alice@example.com', () => {
  const taken: [string, string][] = [
    ['\uff41\uff4c\uff49\uff43\uff45@example.com', 'fullwidth \uff41\uff4c\uff49\uff43\uff45'],
    ['\u{1d41a}\u{1d425}\u{1d422}\u{1d41c}\u{1d41e}@example.com', 'mathematical bold'],
    ['al\u0131ce@example.com', 'a dotless \u0131'],
    ['AL\u0130CE@example.com', 'a dotted \u0130'],
    ['ALICE@EXAMPLE.COM', 'upper case'],
    ['alice@\uff45xample.com', 'a fullwidth letter in the domain'],
  ];
  for (const [lookAlike, what] of taken) {
    test(`${what} is "email already registered", and logs in to alice’s account`, async () => {
      const { app } = await startTestService();
      assert.equal((await signUp(app, 'alice@example.com')).statusCode, 200);
      const again = await signUp(app, lookAlike, 'another password here');
      assert.equal(again.statusCode, 400);
      assert.deepEqual(again.json(), { message: 'email already registered' });
      const login = await logIn(app, lookAlike);
      assert.equal(login.statusCode, 200);
      assert.equal(login.json<{ email: string }>().email, 'alice@example.com');
    });
  }

  const refused: [string, string, string][] = [
    ['\u0430lice@example.com', 'a Cyrillic \u0430', 'email_mixed_scripts'],
    ['alice\u2800@example.com', 'a braille blank', 'email_disallowed_character'],
    ['a\u0338lice@example.com', 'a combining overlay', 'email_disallowed_character'],
    ['alice\ue000@example.com', 'a private-use character', 'email_disallowed_character'],
    ['alice\u0378@example.com', 'an unassigned code point', 'email_disallowed_character'],
  ];
  for (const [lookAlike, what, code] of refused) {
    test(`${what} is refused with 400 and code ${code}, and no account is made`, async () => {
      const database = await inspectableDatabase();
      const { app } = await startTestService({ DATABASE_URL: database.url });
      assert.equal((await signUp(app, 'alice@example.com')).statusCode, 200);
      const refusal = await signUp(app, lookAlike);
      assert.equal(refusal.statusCode, 400);
      assert.equal(refusal.json<{ code: string }>().code, code);
      assert.deepEqual(await database.rows('SELECT email FROM users'), [
        { email: 'alice@example.com' },
      ]);
      // Nor is it alice at login.
      assert.equal((await logIn(app, lookAlike)).statusCode, 401);
    });
  }

  test('the sign-up page shows such a refusal next to the email field', async () => {
    const { app } = await startTestService();
    const page = await pagePost(app, '/signup', {
      email: '\u0430lice@example.com',
      password: 'a long enough password',
    });
    assert.equal(page.statusCode, 400);
    assert.match(page.body, /id="signup-email-error"[^>]*>.*mixes letters of different scripts/s);
  });

  test('bob@b\u00fccher.de and bob@xn--bcher-kva.de are one account, either way round', async () => {
    const { app } = await startTestService();
    assert.equal((await signUp(app, 'bob@b\u00fccher.de')).statusCode, 200);
    assert.deepEqual((await signUp(app, 'bob@xn--bcher-kva.de')).json(), {
      message: 'email already registered',
    });
    assert.equal((await logIn(app, 'bob@xn--bcher-kva.de')).statusCode, 200);
    assert.equal((await signUp(app, 'carol@xn--bcher-kva.de')).statusCode, 200);
    assert.deepEqual((await signUp(app, 'carol@B\u00dcCHER.de')).json(), {
      message: 'email already registered',
    });
  });

  test('\u017fam@ is sam@ and \u03b1\u03c2@ is \u03b1\u03c3@; the profile shows the address as typed', async () => {
    const { app } = await startTestService();
    assert.equal((await signUp(app, '\u017fam@example.com')).statusCode, 200);
    assert.deepEqual((await signUp(app, 'sam@example.com')).json(), {
      message: 'email already registered',
    });
    assert.equal((await signUp(app, '\u03b1\u03c3@example.gr')).statusCode, 200);
    assert.deepEqual((await signUp(app, '\u0391\u03a3@example.gr')).json(), {
      message: 'email already registered',
    });
    assert.deepEqual((await signUp(app, '\u03b1\u03c2@example.gr')).json(), {
      message: 'email already registered',
    });
    const login = await logIn(app, 'SAM@example.com');
    assert.equal(login.statusCode, 200);
    const cookie = login.cookies.find((c) => c.name === 'session_id')?.value ?? '';
    const profile = await app.inject({
      method: 'GET',
      url: '/profile',
      cookies: { session_id: cookie },
    });
    assert.deepEqual(profile.json(), {
      email: '\u017fam@example.com',
      two_factor: false,
      email_verified: false,
    });
  });

  test('look-alikes share one login throttle', async () => {
    const { app } = await startTestService({ ...THROTTLED, LOGIN_THROTTLE_AFTER: '3' });
    assert.equal((await signUp(app, 'alice@example.com')).statusCode, 200);
    for (const lookAlike of [
      '\uff41\uff4c\uff49\uff43\uff45@example.com',
      '\u{1d41a}\u{1d425}\u{1d422}\u{1d41c}\u{1d41e}@example.com',
      'al\u0131ce@example.com',
    ]) {
      assert.equal((await logIn(app, lookAlike, 'wrong')).statusCode, 401);
    }
    assert.equal((await logIn(app, 'alice@example.com')).statusCode, 429);
  });

  test('failed logins with a look-alike count toward the account’s own password checks', async () => {
    const { app } = await startTestService({ ...THROTTLED, LOGIN_THROTTLE_AFTER: '3' });
    assert.equal((await signUp(app, '\u017fam@example.com')).statusCode, 200);
    const login = await logIn(app, '\u017fam@example.com');
    const sessionId = login.cookies.find((c) => c.name === 'session_id')?.value ?? '';
    for (let i = 0; i < 3; i += 1) {
      assert.equal((await logIn(app, 'SAM@example.com', 'wrong')).statusCode, 401);
    }
    const change = await app.inject({
      method: 'PUT',
      url: '/profile/password',
      cookies: { session_id: sessionId },
      payload: { current_password: PASSWORD, new_password: 'a brand new password' },
    });
    assert.equal(change.statusCode, 429, change.body);
  });

  test('the command line’s account administration finds an account by a look-alike', async () => {
    const { app, admin } = await startTestService();
    assert.equal((await signUp(app, 'alice@example.com')).statusCode, 200);
    const shown = await admin.showUser('\uff41\uff4c\uff49\uff43\uff45@example.com');
    assert.equal(shown.email, 'alice@example.com');
    await assert.rejects(admin.showUser(NUL_EMAIL), /No user with that email/);
  });

  test('a reset with a look-alike of the account’s address works', async () => {
    const { app, auth } = await startTestService();
    assert.equal((await signUp(app, 'alice@example.com')).statusCode, 200);
    const token = await auth.getResetPasswordToken('\u{1d41a}lice@example.com');
    const update = await submit(app, 'PUT', '/reset_password', {
      email: 'ALICE@\uff45xample.com',
      reset_token: token,
      new_password: 'a brand new password',
    });
    assert.equal(update.statusCode, 200, update.body);
    assert.equal((await logIn(app, 'alice@example.com', 'a brand new password')).statusCode, 200);
  });
});
