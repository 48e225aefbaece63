/**
 * The sign-up policy through the front door, on the engine under test: SIGNUP=closed refuses
 * every sign-up (API and form) and the pages show no way to sign up; SIGNUP_EMAIL_DOMAINS lets
 * only its domains sign up, with the same answer, and no more work, whether or not an address
 * outside them has an account.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { CountingHasher } from '../support/fakes.js';
import { form, startTestService } from '../support/service.js';

const PASSWORD = 'correct horse';
const html = { accept: 'text/html' };

const signUp = (app: FastifyInstance, payload: Record<string, unknown>) =>
  app.inject({ method: 'POST', url: '/users', payload });
/** A post of the sign-up form, as a browser sends it from our own page. */
const signUpForm = (app: FastifyInstance, fields: Record<string, string>) =>
  app.inject({
    method: 'POST',
    url: '/signup',
    headers: { ...form(fields).headers, ...html, origin: 'http://auth.test' },
    payload: form(fields).payload,
  });
const page = (app: FastifyInstance, url: string) =>
  app.inject({ method: 'GET', url, headers: html });
/** An error body without its request id, which differs on every answer. */
const withoutRequestId = (body: string) => {
  const { requestId, ...rest } = JSON.parse(body) as { requestId?: string };
  assert.equal(typeof requestId, 'string');
  return rest;
};

describe('SIGNUP=closed', () => {
  test('POST /users answers 403 signup_closed whatever the body holds, and creates nothing', async () => {
    const { app, admin } = await startTestService({ SIGNUP: 'closed' });
    const valid = await signUp(app, { email: 'bob@example.com', password: PASSWORD });
    assert.equal(valid.statusCode, 403);
    assert.deepEqual(withoutRequestId(valid.body), {
      message: 'Sign-up is closed: accounts are created by invitation only',
      code: 'signup_closed',
    });
    // Refused before the fields are checked: nothing about them is told.
    for (const payload of [{}, { email: 'not an email', password: 'x' }]) {
      const response = await signUp(app, payload);
      assert.equal(response.statusCode, 403, JSON.stringify(payload));
      assert.equal(response.json<{ code: string }>().code, 'signup_closed');
    }
    assert.deepEqual(await admin.listUsers({ limit: 10, offset: 0 }), []);
  });

  test('the sign-up form answers 403 with a page saying sign-up is closed, and creates nothing', async () => {
    const { app, admin } = await startTestService({ SIGNUP: 'closed' });
    const response = await signUpForm(app, { email: 'bob@example.com', password: PASSWORD });
    assert.equal(response.statusCode, 403);
    assert.match(String(response.headers['content-type']), /^text\/html/);
    assert.match(response.body, /<h1>Sign-up is closed<\/h1>/);
    assert.match(response.body, /by invitation only/);
    const empty = await signUpForm(app, {});
    assert.equal(empty.statusCode, 403);
    assert.deepEqual(await admin.listUsers({ limit: 10, offset: 0 }), []);
  });

  test('GET /signup says sign-up is closed, with no form, and no page links to it', async () => {
    const { app } = await startTestService({ SIGNUP: 'closed' });
    const signUpPage = await page(app, '/signup');
    assert.equal(signUpPage.statusCode, 200);
    assert.match(signUpPage.body, /Sign-up is closed/);
    assert.doesNotMatch(signUpPage.body, /<form/);
    for (const url of ['/', '/login', '/login?notice=logged_out', '/signup', '/forgot']) {
      const response = await page(app, url);
      assert.equal(response.statusCode, 200, url);
      assert.doesNotMatch(response.body, /href="\/signup"/, url);
    }
    // A refused login re-renders the login page: no link there either.
    const login = await app.inject({
      method: 'POST',
      url: '/login',
      headers: { ...form({}).headers, origin: 'http://auth.test' },
      payload: form({ email: 'bob@example.com', password: 'wrong password' }).payload,
    });
    assert.equal(login.statusCode, 401);
    assert.doesNotMatch(login.body, /href="\/signup"/);
  });

  test('with sign-up open (the default), the welcome and login pages link to the form', async () => {
    const { app } = await startTestService();
    for (const url of ['/', '/login']) {
      assert.match((await page(app, url)).body, /href="\/signup"/, url);
    }
    assert.match((await page(app, '/signup')).body, /<form method="post" action="\/signup"/);
  });
});

describe('SIGNUP_EMAIL_DOMAINS', () => {
  const DOMAINS = { SIGNUP_EMAIL_DOMAINS: 'example.com, Bücher.de' };

  test('addresses of the listed domains sign up, in any case and either form of an IDN', async () => {
    const { app } = await startTestService(DOMAINS);
    for (const email of [
      'bob@example.com',
      'Ann@EXAMPLE.COM',
      'eva@bücher.de',
      'max@xn--bcher-kva.de',
    ]) {
      const response = await signUp(app, { email, password: PASSWORD });
      assert.equal(response.statusCode, 200, `${email}: ${response.body}`);
    }
  });

  test('other domains, subdomains and look-alikes get 403 signup_domain_not_allowed', async () => {
    const { app, admin } = await startTestService(DOMAINS);
    const emails = [
      'bob@example.org',
      'bob@sub.example.com',
      'bob@example.com.evil.test',
      'bob@evilexample.com',
      'bob@buecher.de',
    ];
    for (const email of emails) {
      const response = await signUp(app, { email, password: PASSWORD });
      assert.equal(response.statusCode, 403, email);
      assert.deepEqual(withoutRequestId(response.body), {
        message: 'Sign-up is not open to addresses of this domain',
        code: 'signup_domain_not_allowed',
      });
    }
    assert.deepEqual(await admin.listUsers({ limit: 10, offset: 0 }), []);
  });

  test('an address outside the domains gets the same 403, and the same work, whether or not it has an account', async () => {
    const hasher = new CountingHasher();
    const { app, auth, admin } = await startTestService(DOMAINS, { hasher });
    // Made by the operator, whom the policy does not bind (or before the domains were limited).
    await auth.addUser('old@example.org', PASSWORD);
    const before = await admin.showUser('old@example.org');
    const work = () => ({ hashes: hasher.hashes, verifications: hasher.verifications.length });
    const start = work();
    const existing = await signUp(app, { email: 'old@example.org', password: 'another password' });
    const afterExisting = work();
    const fresh = await signUp(app, { email: 'new@example.org', password: 'another password' });
    assert.equal(existing.statusCode, 403);
    assert.equal(fresh.statusCode, 403);
    assert.deepEqual(withoutRequestId(existing.body), withoutRequestId(fresh.body));
    assert.deepEqual(Object.keys(existing.headers).sort(), Object.keys(fresh.headers).sort());
    // No hashing for either: nothing the work costs depends on the account.
    assert.deepEqual(afterExisting, start);
    assert.deepEqual(work(), start);
    // The existing account is untouched, and still logs in with its password.
    assert.deepEqual(await admin.showUser('old@example.org'), before);
    assert.equal(await auth.validLogin('old@example.org', PASSWORD), true);
  });

  test('a taken address of a listed domain keeps the course’s exact body', async () => {
    const { app } = await startTestService(DOMAINS);
    assert.equal(
      (await signUp(app, { email: 'bob@example.com', password: PASSWORD })).statusCode,
      200,
    );
    const again = await signUp(app, { email: 'BOB@example.com', password: PASSWORD });
    assert.equal(again.statusCode, 400);
    assert.equal(again.body, '{"message":"email already registered"}');
  });

  test('the sign-up form shows the refusal next to the email field, with 403', async () => {
    const { app, admin } = await startTestService(DOMAINS);
    const response = await signUpForm(app, { email: 'bob@example.org', password: PASSWORD });
    assert.equal(response.statusCode, 403);
    assert.match(response.body, /id="signup-email-error"/);
    assert.match(response.body, /Sign-up is not open to addresses of this domain/);
    assert.match(response.body, /value="bob@example.org"/);
    const allowed = await signUpForm(app, { email: 'bob@example.com', password: PASSWORD });
    assert.equal(allowed.statusCode, 303);
    const users = await admin.listUsers({ limit: 10, offset: 0 });
    assert.deepEqual(
      users.map((user) => user.email),
      ['bob@example.com'],
    );
  });
});
