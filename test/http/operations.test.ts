/**
 * What operators rely on: health and readiness, metrics after a known sequence of requests, the
 * audit trail of a whole journey, and an OpenAPI document that covers every route and matches
 * every answer.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { inspectableDatabase } from '../support/databases.js';
import { totpCodeAt } from '../support/totp.js';
import { SoftAuthenticator } from '../support/authenticator.js';
import { creationOptions, json, requestOptions, TEST_ORIGIN } from '../support/passkeys.js';
import {
  form,
  sessionCookie,
  signUpAndLogIn,
  startTestService,
  submit,
} from '../support/service.js';

const EMAIL = 'ops@example.com';

/** The web pages' routes: HTML for browsers, which the API's document leaves out. */
const PAGE_ROUTES = [
  '/style.css',
  '/signup',
  '/login',
  '/login/code',
  '/logout',
  '/account',
  '/account/password',
  '/account/delete',
  '/account/sessions/end',
  '/account/sessions/end-others',
  '/account/totp',
  '/account/totp/confirm',
  '/account/totp/disable',
  '/account/recovery-codes',
  '/account/passkeys/remove',
  '/webauthn.js',
  '/passkeys.js',
  '/forgot',
  '/reset',
  '/verify',
  '/verify/resend',
  '/confirm_email',
  '/account/email',
];

/**
 * Every route `app` has, read from Fastify's own route tree (`printRoutes`): each line is a
 * segment of the path, below its parent's, with the methods it serves.
 */
function routesOf(app: FastifyInstance): { method: string; url: string }[] {
  const routes: { method: string; url: string }[] = [];
  const prefixes: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^((?:[│ ] {3})*)[└├]── (.*?)(?: \(([A-Z, ]+)\))?$/u.exec(line);
    if (match === null) continue;
    const [, indent = '', segment = '', methods] = match;
    const depth = indent.length / 4;
    prefixes.length = depth;
    const url = `${prefixes.join('')}${segment}`;
    prefixes.push(segment);
    for (const method of methods?.split(', ') ?? []) routes.push({ method, url });
  }
  return routes;
}
const PASSWORD = 'correct horse';

describe('health', () => {
  test('/healthz and /readyz answer 200 when all is well', async () => {
    const { app } = await startTestService();
    const health = await app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(health.statusCode, 200);
    assert.deepEqual(health.json(), { status: 'ok' });
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 200);
    assert.deepEqual(ready.json(), { status: 'ready' });
  });

  test('/readyz answers 503 while a migration is not applied', async () => {
    const database = await inspectableDatabase();
    const { app } = await startTestService({ DATABASE_URL: database.url });
    await database.execute("DELETE FROM kysely_migration WHERE name = '0003_audit_events'");
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 503);
    assert.match(ready.json<{ message: string }>().message, /0003_audit_events/);
    assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  });
});

test('metrics count requests, auth outcomes and hashing after a known sequence', async () => {
  const { app, metrics } = await startTestService({ RATE_LIMIT: 'on', LOGIN_THROTTLE_AFTER: '1' });
  await submit(app, 'POST', '/users', { email: EMAIL, password: PASSWORD });
  await submit(app, 'POST', '/sessions', { email: EMAIL, password: 'wrong password' });
  await submit(app, 'POST', '/sessions', { email: EMAIL, password: PASSWORD });
  await app.inject({ method: 'GET', url: '/profile' });
  const text = await metrics.registry.metrics();
  const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1]);
  assert.equal(value(/bienvenue_auth_events_total\{type="user_registered"\} (\d+)/), 1);
  assert.equal(value(/bienvenue_auth_events_total\{type="login_failed"\} (\d+)/), 1);
  assert.equal(value(/bienvenue_auth_events_total\{type="login_throttled"\} (\d+)/), 1);
  assert.equal(
    value(
      /bienvenue_http_request_duration_seconds_count\{method="POST",route="\/sessions",status_code="401"\} (\d+)/,
    ),
    1,
  );
  assert.equal(
    value(
      /bienvenue_http_request_duration_seconds_count\{method="POST",route="\/sessions",status_code="429"\} (\d+)/,
    ),
    1,
  );
  assert.equal(
    value(
      /bienvenue_http_request_duration_seconds_count\{method="GET",route="\/profile",status_code="403"\} (\d+)/,
    ),
    1,
  );
  // Hashes: the dummy one made at start, and the sign-up's. One verification, for the wrong
  // login: none while throttled.
  assert.equal(
    value(/bienvenue_password_hash_duration_seconds_count\{operation="hash"\} (\d+)/),
    2,
  );
  assert.equal(
    value(/bienvenue_password_hash_duration_seconds_count\{operation="verify"\} (\d+)/),
    1,
  );
  assert.match(text, /bienvenue_nodejs_eventloop_lag_seconds \d/);
});

test('the audit trail of a whole journey, with address and user agent, never a secret', async () => {
  const { app, auth, admin, mailer } = await startTestService();
  const headers = { 'user-agent': 'journey-test/1.0' };
  const send = (options: InjectOptions) =>
    app.inject({ ...options, headers: { ...options.headers, ...headers } });
  const post = (url: string, fields: Record<string, string>, method: 'POST' | 'PUT' = 'POST') =>
    send({ method, url, ...form(fields) });
  await post('/users', { email: EMAIL, password: PASSWORD });
  await post('/sessions', { email: EMAIL, password: 'wrong password' });
  await post('/sessions', { email: 'nobody@example.com', password: 'wrong password' });
  const sessionId = sessionCookie(await post('/sessions', { email: EMAIL, password: PASSWORD }));
  assert.ok(sessionId);
  await send({ method: 'DELETE', url: '/sessions', cookies: { session_id: sessionId } });
  await post('/reset_password', { email: EMAIL });
  await auth.drain();
  const token = /token=([0-9a-f-]{36})/.exec(mailer.sent[0]?.text ?? '')?.[1] ?? '';
  await post(
    '/reset_password',
    { email: EMAIL, reset_token: token, new_password: 'new password here' },
    'PUT',
  );
  await auth.drain();

  const events = await admin.events({ email: EMAIL, limit: 50 });
  assert.deepEqual(events.map((event) => event.type).reverse(), [
    'user_registered',
    'login_failed',
    'session_started',
    'login_succeeded',
    'session_ended',
    'logout',
    'password_reset_requested',
    'password_reset_completed',
  ]);
  for (const event of events) {
    assert.equal(event.ip, '127.0.0.1');
    assert.equal(event.userAgent, 'journey-test/1.0');
    assert.ok(!Number.isNaN(Date.parse(event.at)));
  }
  const strangers = await admin.events({ type: 'login_failed', limit: 10 });
  assert.ok(strangers.some((event) => event.userId === null && event.email === null));
  const everything = JSON.stringify(await admin.events({ limit: 100 }));
  for (const secret of [PASSWORD, 'wrong password', 'new password here', sessionId, token]) {
    assert.ok(!everything.includes(secret), 'no secret in the audit log');
  }
});

describe('OpenAPI', () => {
  /** Every answer of `app` to `requests` must be documented and match its documented schema. */
  async function assertAnswersMatch(app: FastifyInstance, requests: InjectOptions[]) {
    const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<OpenApi>();
    const ajv = new Ajv2020({ strict: false });
    for (const request of requests) {
      const response = await app.inject(request);
      const url = (request.url as string).split('?')[0] ?? '';
      // A templated path (/profile/sessions/{id}) documents every URL it matches.
      const path = Object.keys(document.paths).find((template) =>
        new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(url),
      );
      const operation = document.paths[path ?? url]?.[String(request.method).toLowerCase()];
      assert.ok(operation, `${request.method} ${url} is documented`);
      const status = String(response.statusCode);
      const documentedAnswer =
        operation.responses[status] ?? operation.responses[`${status[0] ?? ''}XX`];
      assert.ok(documentedAnswer, `${request.method} ${url} → ${status} is documented`);
      const schema = documentedAnswer.content?.['application/json']?.schema;
      if (response.body === '') continue;
      assert.ok(schema, `${request.method} ${url} → ${status} has a documented body`);
      const valid = ajv.validate(schema, response.json());
      assert.ok(
        valid,
        `${request.method} ${url} → ${status}: ${ajv.errorsText()} in ${response.body}`,
      );
    }
  }

  interface OpenApi {
    openapi: string;
    paths: Record<
      string,
      Record<
        string,
        { responses: Record<string, { content?: Record<string, { schema?: object }> }> }
      >
    >;
  }

  test('the document is OpenAPI 3.1 and lists every route of the app', async () => {
    const { app } = await startTestService();
    const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<OpenApi>();
    assert.equal(document.openapi, '3.1.0');
    const undocumented = routesOf(app).filter(
      (route) =>
        route.method !== 'HEAD' &&
        route.url !== '/openapi.json' &&
        !route.url.startsWith('/docs') &&
        !PAGE_ROUTES.includes(route.url) &&
        document.paths[route.url.replace(/:(\w+)/g, '{$1}')]?.[route.method.toLowerCase()] ===
          undefined,
    );
    assert.deepEqual(undocumented, []);
    const routes = routesOf(app);
    for (const known of ['POST /users', 'PUT /reset_password', 'PUT /profile/password']) {
      assert.ok(
        routes.some((route) => `${route.method} ${route.url}` === known),
        `${known} is read from the route tree`,
      );
    }
    assert.ok(routes.length >= 9);
    const docs = await app.inject({ method: 'GET', url: '/docs/' });
    assert.equal(docs.statusCode, 200);
    assert.match(docs.body, /swagger-ui/i);
    assert.doesNotMatch(docs.body, /https?:\/\/(?!localhost)[^"']*\.(js|css)/, 'no CDN assets');
  });

  test('the two-factor routes’ answers match their documented schemas', async () => {
    const { app, clock } = await startTestService();
    const sessionId = await signUpAndLogIn(app, EMAIL, PASSWORD);
    const cookies = { session_id: sessionId };
    const begun = await app.inject({
      method: 'POST',
      url: '/profile/totp',
      cookies,
      ...form({ password: PASSWORD }),
    });
    const { secret } = begun.json<{ secret: string }>();
    await assertAnswersMatch(app, [
      { method: 'POST', url: '/profile/totp', ...form({ password: 'wrong one' }), cookies },
      { method: 'POST', url: '/profile/totp/confirm', ...form({ code: '12' }), cookies },
      {
        method: 'POST',
        url: '/profile/totp/confirm',
        ...form({ code: totpCodeAt(secret, clock.now()) }),
        cookies,
      },
      { method: 'POST', url: '/profile/totp', ...form({ password: PASSWORD }), cookies },
      { method: 'POST', url: '/profile/recovery-codes', ...form({ password: PASSWORD }), cookies },
      { method: 'GET', url: '/profile', cookies },
      {
        method: 'DELETE',
        url: '/profile/totp',
        ...form({ password: PASSWORD, code: 'x' }),
        cookies,
      },
    ]);
    clock.advanceSeconds(60);
    await assertAnswersMatch(app, [
      {
        method: 'DELETE',
        url: '/profile/totp',
        ...form({ password: PASSWORD, code: totpCodeAt(secret, clock.now()) }),
        cookies,
      },
      {
        method: 'DELETE',
        url: '/profile/totp',
        ...form({ password: PASSWORD, code: 'x' }),
        cookies,
      },
    ]);
  });

  test('the address routes’ answers match their documented schemas', async () => {
    const { app, auth, mailer } = await startTestService({ EMAIL_VERIFICATION: 'required' });
    /** The token of the newest mailed link to `path`. */
    const tokenIn = async (path: string) => {
      await auth.drain();
      const text = mailer.sent
        .map((mail) => mail.text)
        .reverse()
        .find((t) => t.includes(path));
      const token = new RegExp(`${path}\\?token=(\\S+)`).exec(text ?? '')?.[1];
      assert.ok(token, `a ${path} link was mailed`);
      return token;
    };
    await submit(app, 'POST', '/users', { email: EMAIL, password: PASSWORD });
    const verifyToken = await tokenIn('/verify_email');
    await assertAnswersMatch(app, [
      { method: 'POST', url: '/sessions', ...form({ email: EMAIL, password: PASSWORD }) },
      { method: 'GET', url: `/verify_email?token=${verifyToken}` },
      { method: 'POST', url: '/verify_email/resend', ...form({ email: EMAIL }) },
      { method: 'POST', url: '/verify_email/resend', ...form({ email: 'bad' }) },
      { method: 'POST', url: '/verify_email', ...form({ token: verifyToken }) },
      { method: 'POST', url: '/verify_email', ...form({ token: verifyToken }) },
      { method: 'POST', url: '/verify_email', ...form({}) },
    ]);
    const login = await submit(app, 'POST', '/sessions', { email: EMAIL, password: PASSWORD });
    const cookies = { session_id: sessionCookie(login) ?? '' };
    const change = (fields: Record<string, string>, withSession = true) => ({
      method: 'PUT' as const,
      url: '/profile/email',
      ...form({ password: PASSWORD, ...fields }),
      ...(withSession && { cookies }),
    });
    await assertAnswersMatch(app, [
      change({ new_email: 'moved@example.com' }, false),
      change({ new_email: 'not an address' }),
      change({ new_email: EMAIL }),
      change({ new_email: 'moved@example.com', password: 'wrong one' }),
      change({ new_email: 'moved@example.com' }),
    ]);
    const changeToken = await tokenIn('/confirm_email_change');
    await submit(app, 'POST', '/users', { email: 'rival@example.com', password: PASSWORD });
    await auth.addUser('taker@example.com', PASSWORD);
    const rival = await submit(app, 'POST', '/sessions', {
      email: 'taker@example.com',
      password: PASSWORD,
    });
    await app.inject({
      method: 'PUT',
      url: '/profile/email',
      cookies: { session_id: sessionCookie(rival) ?? '' },
      ...form({ password: PASSWORD, new_email: 'contested@example.com' }),
    });
    const contested = await tokenIn('/confirm_email_change');
    await assertAnswersMatch(app, [
      { method: 'GET', url: `/confirm_email_change?token=${changeToken}` },
      { method: 'POST', url: '/confirm_email_change', ...form({ token: 'nonsense' }) },
      { method: 'POST', url: '/confirm_email_change', ...form({ token: changeToken }) },
      { method: 'GET', url: '/profile', cookies },
    ]);
    await auth.addUser('contested@example.com', PASSWORD);
    await assertAnswersMatch(app, [
      { method: 'POST', url: '/confirm_email_change', ...form({ token: contested }) },
    ]);
    const still = await app.inject({
      url: '/profile',
      cookies: { session_id: sessionCookie(rival) ?? '' },
    });
    assert.equal(
      still.json<{ email: string }>().email,
      'taker@example.com',
      'the 409 changed nothing',
    );
  });

  test('the passkey routes’ answers match their documented schemas', async () => {
    const { app, clock } = await startTestService();
    const sessionId = await signUpAndLogIn(app, EMAIL, PASSWORD);
    const cookies = { session_id: sessionId };
    const authenticator = new SoftAuthenticator(TEST_ORIGIN);
    const options = await creationOptions(app, sessionId);
    await assertAnswersMatch(app, [
      { method: 'POST', url: '/profile/passkeys/options', cookies },
      { method: 'POST', url: '/profile/passkeys/options' },
      {
        method: 'POST',
        url: '/profile/passkeys',
        cookies,
        ...json({ name: 'Key', response: authenticator.create(options) }),
      },
      {
        method: 'POST',
        url: '/profile/passkeys',
        cookies,
        ...json({ name: 'Key', response: authenticator.create(options) }),
      },
      { method: 'POST', url: '/profile/passkeys', cookies, ...json({ name: 'Key' }) },
      { method: 'GET', url: '/profile/passkeys', cookies },
      { method: 'GET', url: '/profile/passkeys' },
      { method: 'DELETE', url: '/profile/passkeys/nope', cookies },
      { method: 'POST', url: '/sessions/passkey/options' },
      {
        method: 'POST',
        url: '/sessions/passkey',
        ...json({ response: authenticator.get(await requestOptions(app)) }),
      },
      {
        method: 'POST',
        url: '/sessions/passkey',
        ...json({ response: authenticator.get(await requestOptions(app), { badSignature: true }) }),
      },
      { method: 'POST', url: '/sessions/passkey', ...json({}) },
      { method: 'DELETE', url: '/profile/password', cookies },
      { method: 'DELETE', url: '/profile/password', cookies },
    ]);
    clock.advanceSeconds(11 * 60);
    const listed = await app.inject({ method: 'GET', url: '/profile/passkeys', cookies });
    const [passkey] = listed.json<{ passkeys: { id: string }[] }>().passkeys;
    await assertAnswersMatch(app, [
      { method: 'POST', url: '/profile/passkeys/options', cookies },
      { method: 'DELETE', url: `/profile/passkeys/${passkey?.id ?? ''}`, cookies },
    ]);
    const other = await signUpAndLogIn(app, 'other@example.com', PASSWORD);
    await assertAnswersMatch(app, [
      { method: 'DELETE', url: '/profile/password', cookies: { session_id: other } },
    ]);
  });

  test('every answer of the API matches its documented schema', async () => {
    const { app, auth, mailer } = await startTestService();
    const sessionId = await signUpAndLogIn(app, EMAIL, PASSWORD);
    const formOf = (fields: Record<string, string>) => form(fields);
    await assertAnswersMatch(app, [
      { method: 'GET', url: '/' },
      { method: 'GET', url: '/healthz' },
      { method: 'GET', url: '/readyz' },
      {
        method: 'POST',
        url: '/users',
        ...formOf({ email: 'other@example.com', password: PASSWORD }),
      },
      { method: 'POST', url: '/users', ...formOf({ email: EMAIL, password: PASSWORD }) },
      { method: 'POST', url: '/users', ...formOf({ email: 'bad', password: PASSWORD }) },
      {
        method: 'POST',
        url: '/users',
        payload: '{broken',
        headers: { 'content-type': 'application/json' },
      },
      { method: 'POST', url: '/sessions', ...formOf({ email: EMAIL, password: 'wrong one' }) },
      { method: 'POST', url: '/sessions', ...formOf({ email: EMAIL, password: PASSWORD }) },
      { method: 'GET', url: '/profile', cookies: { session_id: sessionId } },
      { method: 'GET', url: '/profile' },
      { method: 'GET', url: '/profile/sessions', cookies: { session_id: sessionId } },
      { method: 'GET', url: '/profile/sessions' },
      { method: 'DELETE', url: '/profile/sessions', cookies: { session_id: sessionId } },
      { method: 'DELETE', url: '/profile/sessions/nope', cookies: { session_id: sessionId } },
      { method: 'DELETE', url: '/profile/sessions/nope' },
      { method: 'POST', url: '/reset_password', ...formOf({ email: EMAIL }) },
      { method: 'GET', url: '/reset_password?token=x' },
      {
        method: 'PUT',
        url: '/reset_password',
        ...formOf({
          email: EMAIL,
          reset_token: crypto.randomUUID(),
          new_password: 'whatever it is',
        }),
      },
      { method: 'DELETE', url: '/sessions' },
      { method: 'PUT', url: '/profile/password', ...formOf({ current_password: PASSWORD }) },
      {
        method: 'PUT',
        url: '/profile/password',
        ...formOf({ current_password: PASSWORD, new_password: 'a new password' }),
      },
      { method: 'DELETE', url: '/profile', ...formOf({ password: PASSWORD }) },
    ]);
    await auth.drain();
    assert.equal(mailer.sent.length, 1);
    const login = await submit(app, 'POST', '/sessions', { email: EMAIL, password: PASSWORD });
    const session = { session_id: sessionCookie(login) ?? '' };
    const newPassword = { current_password: PASSWORD, new_password: 'a new password' };
    await assertAnswersMatch(app, [
      { method: 'PUT', url: '/profile/password', cookies: session, ...formOf(newPassword) },
      { method: 'DELETE', url: '/profile', cookies: session, ...formOf({ password: 'wrong' }) },
    ]);
    const again = await submit(app, 'POST', '/sessions', { email: EMAIL, password: PASSWORD });
    assert.equal(again.statusCode, 401, 'the password was changed');
    const fresh = await submit(app, 'POST', '/sessions', {
      email: EMAIL,
      password: 'a new password',
    });
    const freshSession = { session_id: sessionCookie(fresh) ?? '' };
    await assertAnswersMatch(app, [
      {
        method: 'DELETE',
        url: '/profile',
        cookies: freshSession,
        ...formOf({ password: 'a new password' }),
      },
      { method: 'DELETE', url: '/sessions', cookies: freshSession },
    ]);
  });
});
