/**
 * Forward auth's contract through inject(): /auth/forward (X-Forwarded-* headers, 302 for
 * browsers) and /auth/request (X-Original-* headers, 401 with Location for browsers), each reading
 * its own header family only; identity headers on a live session; 401 JSON for API calls; no
 * cookie set, nothing cached; any method, any body, no cross-site refusal.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { sessionCookie, signUpAndLogIn, startTestService, submit } from '../support/service.js';

const APP_URL = 'https://app.example.test/private/page?x=1&y=%2F';
const BROWSER = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

/** The headers Caddy or Traefik send for a request to APP_URL. */
function forwarded(method = 'GET'): Record<string, string> {
  return {
    'x-forwarded-method': method,
    'x-forwarded-proto': 'https',
    'x-forwarded-host': 'app.example.test',
    'x-forwarded-uri': '/private/page?x=1&y=%2F',
  };
}

/** The headers the documented nginx configuration sends for a request to APP_URL. */
function original(method = 'GET'): Record<string, string> {
  return { 'x-original-url': APP_URL, 'x-original-method': method };
}

function ask(
  app: FastifyInstance,
  url: '/auth/forward' | '/auth/request',
  headers: Record<string, string>,
  options: { session?: string; method?: InjectOptions['method']; payload?: string } = {},
) {
  return app.inject({
    method: options.method ?? 'GET',
    url,
    headers,
    ...(options.session !== undefined && { cookies: { session_id: options.session } }),
    ...(options.payload !== undefined && { payload: options.payload }),
  });
}

const codeOf = (response: { json(): unknown }) => (response.json() as { code?: string }).code;

const LOGIN_LOCATION = `http://auth.test/login?rd=${encodeURIComponent(APP_URL)}`;

describe('forward auth', () => {
  test('a live session passes with the identity headers, an empty body, no cookie and no-store', async () => {
    const { app, auth } = await startTestService();
    const session = await signUpAndLogIn(app, 'alice@example.com');
    const account = await auth.getUserFromSessionId(session);
    for (const [url, headers] of [
      ['/auth/forward', forwarded()],
      ['/auth/request', original()],
    ] as const) {
      const response = await ask(app, url, headers, { session });
      assert.equal(response.statusCode, 200, url);
      assert.equal(response.body, '');
      assert.equal(response.headers['remote-user'], 'alice@example.com');
      assert.equal(response.headers['remote-email'], 'alice@example.com');
      assert.equal(response.headers['remote-user-id'], String(account?.id));
      assert.equal(response.headers['cache-control'], 'no-store');
      assert.equal(response.headers['set-cookie'], undefined, 'no cookie is set or rotated');
    }
  });

  test('without a session, a browser navigation is sent to the login page with rd: 302 on /auth/forward, 401 with Location on /auth/request', async () => {
    const { app } = await startTestService();
    const forward = await ask(app, '/auth/forward', { ...forwarded(), ...BROWSER });
    assert.equal(forward.statusCode, 302);
    assert.equal(forward.headers.location, LOGIN_LOCATION);
    assert.equal(forward.headers['cache-control'], 'no-store');

    const request = await ask(app, '/auth/request', { ...original(), ...BROWSER });
    assert.equal(request.statusCode, 401);
    assert.equal(request.headers.location, LOGIN_LOCATION);
    assert.equal(codeOf(request), 'session_required');

    const head = await ask(app, '/auth/forward', { ...forwarded('HEAD'), ...BROWSER });
    assert.equal(head.statusCode, 302, 'HEAD is a navigation too');
  });

  test('without a session, API calls, scripts and non-GET requests get 401 JSON and no Location', async () => {
    const { app } = await startTestService();
    const cases: [string, '/auth/forward' | '/auth/request', Record<string, string>][] = [
      ['JSON', '/auth/forward', { ...forwarded(), accept: 'application/json' }],
      ['JSON', '/auth/request', { ...original(), accept: 'application/json' }],
      ['no Accept', '/auth/forward', forwarded()],
      [
        'XHR',
        '/auth/forward',
        { ...forwarded(), ...BROWSER, 'x-requested-with': 'XMLHttpRequest' },
      ],
      ['XHR', '/auth/request', { ...original(), ...BROWSER, 'x-requested-with': 'XMLHttpRequest' }],
      ['POST', '/auth/forward', { ...forwarded('POST'), ...BROWSER }],
      ['DELETE', '/auth/request', { ...original('DELETE'), ...BROWSER }],
    ];
    for (const [name, url, headers] of cases) {
      const response = await ask(app, url, headers);
      assert.equal(response.statusCode, 401, `${name} ${url}`);
      assert.equal(response.headers.location, undefined, `${name} ${url}: no redirect`);
      assert.equal(codeOf(response), 'session_required');
      assert.equal(response.headers['remote-user'], undefined);
    }
  });

  test('a default port written in the host is the same host, another port is kept', async () => {
    const { app } = await startTestService();
    const https = await ask(app, '/auth/request', {
      'x-original-url': 'https://app.example.test:443/private/page?x=1&y=%2F',
      ...BROWSER,
    });
    assert.equal(https.headers.location, LOGIN_LOCATION);
    const other = await ask(app, '/auth/forward', {
      ...forwarded(),
      'x-forwarded-host': 'app.example.test:8443',
      ...BROWSER,
    });
    const rd = new URL(String(other.headers.location)).searchParams.get('rd');
    assert.equal(rd, 'https://app.example.test:8443/private/page?x=1&y=%2F');
  });

  test('X-Original-URI is read as an alias of X-Original-URL', async () => {
    const { app } = await startTestService();
    const response = await ask(app, '/auth/request', { 'x-original-uri': APP_URL, ...BROWSER });
    assert.equal(response.statusCode, 401);
    assert.equal(response.headers.location, LOGIN_LOCATION);
  });

  test('each endpoint ignores the other family of headers', async () => {
    const { app } = await startTestService();
    const session = await signUpAndLogIn(app);
    const forward = await ask(app, '/auth/forward', original(), { session });
    assert.equal(forward.statusCode, 400);
    assert.equal(codeOf(forward), 'forward_headers_missing');
    const request = await ask(app, '/auth/request', forwarded(), { session });
    assert.equal(request.statusCode, 400);
    assert.equal(codeOf(request), 'forward_headers_missing');

    // With both families, each reads its own: the login page's rd names its own family's URL.
    const slipped = { 'x-original-url': 'https://evil.example.test/' };
    const both = await ask(app, '/auth/forward', { ...forwarded(), ...slipped, ...BROWSER });
    assert.equal(both.headers.location, LOGIN_LOCATION);
  });

  test('malformed original requests are refused with 400 forward_headers_missing, never a 500', async () => {
    const { app } = await startTestService();
    const bad: [string, '/auth/forward' | '/auth/request', Record<string, string>][] = [
      ['user info in host', '/auth/forward', { ...forwarded(), 'x-forwarded-host': 'a@evil.test' }],
      ['path in host', '/auth/forward', { ...forwarded(), 'x-forwarded-host': 'evil.test/x' }],
      ['two hosts', '/auth/forward', { ...forwarded(), 'x-forwarded-host': 'a.test, b.test' }],
      // The URL parser would read these as admin.example.test, a host with rules of its own.
      [
        'escaped host',
        '/auth/forward',
        { ...forwarded(), 'x-forwarded-host': 'adm%69n.example.test' },
      ],
      [
        'Unicode host',
        '/auth/forward',
        { ...forwarded(), 'x-forwarded-host': 'ａdmin.example.test' },
      ],
      ['escaped URL host', '/auth/request', { 'x-original-url': 'https://adm%69n.example.test/' }],
      ['full-width dot', '/auth/request', { 'x-original-url': 'https://admin。example.test/' }],
      ['bad port', '/auth/forward', { ...forwarded(), 'x-forwarded-host': 'a.test:99999' }],
      ['relative uri', '/auth/forward', { ...forwarded(), 'x-forwarded-uri': 'private' }],
      ['backslash', '/auth/forward', { ...forwarded(), 'x-forwarded-uri': '/\\evil.test' }],
      ['bad proto', '/auth/forward', { ...forwarded(), 'x-forwarded-proto': 'javascript' }],
      ['bad method', '/auth/forward', { ...forwarded(), 'x-forwarded-method': 'G E T' }],
      ['no proto', '/auth/forward', { ...forwarded(), 'x-forwarded-proto': '' }],
      ['path only', '/auth/request', { 'x-original-url': '/private' }],
      ['userinfo', '/auth/request', { 'x-original-url': 'https://app.example.test@evil.test/' }],
      ['not a URL', '/auth/request', { 'x-original-url': 'https://[zz/' }],
      ['too long', '/auth/request', { 'x-original-url': `https://a.test/${'x'.repeat(9000)}` }],
    ];
    for (const [name, url, headers] of bad) {
      const response = await ask(app, url, { ...headers, ...BROWSER });
      assert.equal(response.statusCode, 400, name);
      assert.equal(codeOf(response), 'forward_headers_missing', name);
    }
  });

  test('a host is judged alike however often and after however many others, each answer naming its own URL', async () => {
    const { app } = await startTestService();
    const loginFor = (url: string) => `http://auth.test/login?rd=${encodeURIComponent(url)}`;
    const askBoth = async (host: string, path: string) => [
      await ask(app, '/auth/forward', {
        ...forwarded(),
        'x-forwarded-host': host,
        'x-forwarded-uri': path,
        ...BROWSER,
      }),
      await ask(app, '/auth/request', { 'x-original-url': `https://${host}${path}`, ...BROWSER }),
    ];
    const judge = async (round: string) => {
      for (const path of ['/one?a=1', '/two#x', '/']) {
        for (const answer of await askBoth('App.Example.test:443', path)) {
          assert.equal(answer.statusCode, answer.statusCode === 302 ? 302 : 401, round);
          assert.equal(answer.headers.location, loginFor(`https://app.example.test${path}`), round);
        }
        for (const answer of await askBoth('127.1', path)) {
          assert.equal(answer.statusCode, 400, `${round}: a host the parser reads as another`);
          assert.equal(codeOf(answer), 'forward_headers_missing', round);
        }
      }
      // One host part, two schemes: port 80 is the default of one only.
      for (const [proto, url] of [
        ['http', 'http://app.example.test/'],
        ['https', 'https://app.example.test:80/'],
      ] as const) {
        const headers = { 'x-forwarded-proto': proto, 'x-forwarded-host': 'app.example.test:80' };
        const answer = await ask(app, '/auth/forward', {
          ...forwarded(),
          ...headers,
          'x-forwarded-uri': '/',
          ...BROWSER,
        });
        assert.equal(answer.headers.location, loginFor(url), `${round}: ${proto}`);
      }
    };
    await judge('first');
    await judge('again');
    // More hosts than are remembered: the memory starts over, and judges the same.
    for (let index = 0; index < 1100; index += 1) {
      const [answer] = await askBoth(`h${index}.example.test`, '/');
      assert.equal(answer?.statusCode, 302);
    }
    await judge('after many hosts');
  });

  test('any method, any body and a cross-site Origin are answered, not refused', async () => {
    const { app } = await startTestService();
    const session = await signUpAndLogIn(app);
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const) {
      const response = await app.inject({
        method,
        url: '/auth/forward',
        headers: {
          ...forwarded(method),
          origin: 'https://app.example.test',
          'sec-fetch-site': 'cross-site',
          'content-type': 'application/x-unknown',
        },
        cookies: { session_id: session },
        payload: 'anything at all {',
      });
      assert.equal(response.statusCode, 200, method);
      assert.equal(response.headers['remote-user'], 'bob@example.com');
    }
  });

  test('a logged-out, unknown or doubled session cookie is no session', async () => {
    const { app } = await startTestService();
    const session = await signUpAndLogIn(app);
    const json = { ...forwarded(), accept: 'application/json' };
    const doubled = await app.inject({
      method: 'GET',
      url: '/auth/forward',
      headers: { ...json, cookie: `session_id=${session}; session_id=${session}` },
    });
    assert.equal(doubled.statusCode, 401, 'a cookie sent twice (cookie tossing) is no session');
    const unknown = await ask(app, '/auth/forward', json, {
      session: '00000000-0000-4000-8000-000000000000',
    });
    assert.equal(unknown.statusCode, 401);
    await app.inject({ method: 'DELETE', url: '/sessions', cookies: { session_id: session } });
    const after = await ask(app, '/auth/forward', json, { session });
    assert.equal(after.statusCode, 401, 'after a logout the next request is refused at once');
  });

  test('an address outside printable ASCII reaches the app percent-encoded as UTF-8', async () => {
    const { app } = await startTestService();
    const session = await signUpAndLogIn(app, 'josé@example.com');
    const response = await ask(app, '/auth/forward', forwarded(), { session });
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['remote-email'], 'jos%C3%A9@example.com');
    assert.equal(
      decodeURIComponent(response.headers['remote-email'] as string),
      'josé@example.com',
    );
  });
});

describe('COOKIE_DOMAIN', () => {
  test('the session cookie carries Domain, and replaces a host-only one the browser still sends', async () => {
    const { app } = await startTestService({
      PUBLIC_URL: 'https://auth.example.test',
      COOKIE_DOMAIN: 'example.test',
    });
    await submit(app, 'POST', '/users', { email: 'd@example.com', password: 'correct horse' });
    const login = await submit(app, 'POST', '/sessions', {
      email: 'd@example.com',
      password: 'correct horse',
    });
    const cookies = login.cookies.filter((cookie) => cookie.name === 'session_id');
    assert.equal(cookies.length, 1, 'a fresh client gets one cookie');
    assert.equal(cookies[0]?.domain, 'example.test');
    assert.equal(sessionCookie(login), cookies[0].value);

    const again = await app.inject({
      method: 'POST',
      url: '/sessions',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: 'session_id=old' },
      payload: 'email=d%40example.com&password=correct+horse',
    });
    const set = again.cookies.filter((cookie) => cookie.name === 'session_id');
    assert.deepEqual(
      set.map((cookie) => [cookie.domain, cookie.value === '' ? 'cleared' : 'set']),
      [
        ['example.test', 'set'],
        [undefined, 'cleared'],
      ],
    );
  });

  test('without COOKIE_DOMAIN the cookie stays host-only', async () => {
    const { app } = await startTestService();
    await submit(app, 'POST', '/users', { email: 'h@example.com', password: 'correct horse' });
    const login = await submit(app, 'POST', '/sessions', {
      email: 'h@example.com',
      password: 'correct horse',
    });
    const cookies = login.cookies.filter((cookie) => cookie.name === 'session_id');
    assert.equal(cookies.length, 1);
    assert.equal(cookies[0]?.domain, undefined);
  });
});
