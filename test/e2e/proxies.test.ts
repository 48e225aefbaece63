/**
 * Forward auth through the real proxies: for each of nginx and Caddy, the documented
 * configuration (docs/proxy/) in front of Bienvenue (a real process) and an app that echoes the
 * headers it receives, spoken to in plain HTTP with the Host each request names (a browser's
 * journeys through the same set-up are in proxies-browser.test.ts). The hosts, accounts and rules
 * are in support/proxy-journeys.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { proxyProblem, type ProxyKind } from '../support/proxies.js';
import { proxied } from '../support/protected-app.js';
import {
  ADMIN,
  ADMIN_HOST,
  APP,
  AUTH,
  BOB,
  identity,
  JSON_CALL,
  journeyCalls,
  PAGE_LOAD,
  PUBLIC,
  SPOOFED,
  startJourneySetUp,
  type JourneySetUp,
} from '../support/proxy-journeys.js';
import { openSocket } from '../support/raw-http.js';

const problems = { nginx: proxyProblem('nginx'), caddy: proxyProblem('caddy') };
for (const [name, problem] of Object.entries(problems)) {
  if (problem === undefined) continue;
  assert.notEqual(process.env.CI, 'true', `${name} is required under CI: ${problem}`);
  process.stdout.write(`\n!!! Proxy tests with ${name} SKIPPED: ${problem}\n\n`);
}

const KINDS = ['nginx', 'caddy'] as const;
const setUps = new Map<ProxyKind, JourneySetUp>();
for (const kind of KINDS)
  if (problems[kind] === undefined) setUps.set(kind, await startJourneySetUp(kind));

for (const kind of KINDS) {
  const problem = problems[kind];
  const started = setUps.get(kind);

  describe(`forward auth through ${kind}`, { skip: problem }, () => {
    const { port, app } = started ?? ({} as JourneySetUp);
    const { origin, get, logIn, reached, assertNoPlaceholders } = journeyCalls({ port, app });

    test('without a session, a page load is sent to log in and an API call gets a 401', async () => {
      const before = app.seen.length;
      const pageLoad = await get(APP, '/private?q=a%20b', PAGE_LOAD);
      assert.equal(pageLoad.status, 302);
      const login = new URL(pageLoad.headers.location ?? '');
      assert.equal(login.origin, origin(AUTH));
      assert.equal(login.pathname, '/login');
      assert.equal(login.searchParams.get('rd'), `${origin(APP)}/private?q=a%20b`);

      for (const headers of [
        JSON_CALL,
        { ...PAGE_LOAD, 'x-requested-with': 'XMLHttpRequest' },
        { accept: '*/*' },
      ]) {
        const call = await get(APP, '/private', headers);
        assert.equal(call.status, 401, JSON.stringify(headers));
        assert.equal(call.headers.location, undefined);
        assert.equal((JSON.parse(call.body) as { code: string }).code, 'session_required');
      }
      const post = await proxied(port, APP, '/private', { method: 'POST', headers: PAGE_LOAD });
      assert.equal(post.status, 401);
      assert.equal(post.headers.location, undefined);
      assert.equal(app.seen.length, before, 'the app received none of them');
    });

    /** Bob's identity as the app receives it when nobody meddles: the values to expect. */
    async function genuineIdentity(cookie: string) {
      const before = app.seen.length;
      const genuine = identity(reached(before, await get(APP, '/', { cookie })));
      assert.equal(genuine['remote-email'], BOB.email);
      assert.equal(genuine['remote-user'], BOB.email);
      assert.match(String(genuine['remote-user-id']), /^\S+$/);
      assert.equal(genuine['remote-email-verified'], 'false');
      return genuine;
    }

    test('identity headers the client sends never reach the app', async () => {
      const cookie = await logIn(BOB);
      const bob = await genuineIdentity(cookie);
      // With a session: Bienvenue's identity only, whatever the client added.
      let before = app.seen.length;
      const answer = await get(APP, '/private', { ...SPOOFED, ...JSON_CALL, cookie });
      assert.deepEqual(identity(reached(before, answer)), bob);
      // Without one: nothing reaches the app.
      before = app.seen.length;
      for (const host of [APP, ADMIN_HOST]) {
        const refused = await get(host, '/private', { ...SPOOFED, ...JSON_CALL });
        assert.equal(refused.status, 401, host);
      }
      assert.equal(app.seen.length, before);
    });

    test('on a host open to everyone, the identity comes from Bienvenue or not at all', async () => {
      const cookie = await logIn(BOB);
      const bob = await genuineIdentity(cookie);
      let before = app.seen.length;
      const loggedIn = await get(PUBLIC, '/private', { ...SPOOFED, ...JSON_CALL, cookie });
      assert.deepEqual(identity(reached(before, loggedIn)), bob);
      before = app.seen.length;
      const anonymous = await get(PUBLIC, '/private', { ...SPOOFED, ...JSON_CALL });
      // Remote-Email-Verified is in every answer (Caddy would copy a placeholder otherwise).
      assert.deepEqual(identity(reached(before, anonymous)), { 'remote-email-verified': 'false' });
    });

    test("a request's method, URL and body reach the app whole past the check", async () => {
      const cookie = await logIn(BOB);
      const body = JSON.stringify({ note: 'x'.repeat(100_000) });
      const before = app.seen.length;
      const answer = await proxied(port, APP, '/notes?draft=1', {
        method: 'PUT',
        headers: { ...JSON_CALL, 'content-type': 'application/json', cookie },
        body,
      });
      reached(before, answer);
      const seen = app.seen.at(-1);
      assert.equal(seen?.method, 'PUT');
      assert.equal(seen.url, '/notes?draft=1');
      assert.equal(seen.body, body);
    });

    test('a full URL in the request line cannot choose the host the rules judge', async () => {
      const before = app.seen.length;
      const { socket, closed } = await openSocket(port);
      socket.write(
        `GET ${origin(ADMIN_HOST)}/private HTTP/1.1\r\nHost: ${PUBLIC}:${port}\r\n` +
          'Accept: application/json\r\nConnection: close\r\n\r\n',
      );
      const answer = await closed;
      assert.match(answer, /^HTTP\/1\.1 401 /);
      assert.equal(app.seen.length, before, 'the app received nothing');
    });

    test('forwarding headers the client sends cannot choose the host the rules judge', async () => {
      const before = app.seen.length;
      const elsewhere = `${origin(PUBLIC)}/private`;
      const answer = await get(ADMIN_HOST, '/private', {
        ...JSON_CALL,
        'x-forwarded-host': `${PUBLIC}:${port}`,
        'x-forwarded-proto': 'http',
        'x-forwarded-uri': '/private',
        'x-forwarded-method': 'GET',
        'x-original-url': elsewhere,
        'x-original-uri': elsewhere,
        'x-original-method': 'GET',
      });
      assert.equal(answer.status, 401);
      assert.equal(app.seen.length, before, 'the app received nothing');
    });

    test("the app gets the proxy's forwarding headers, not the client's", async () => {
      const cookie = await logIn(BOB);
      const before = app.seen.length;
      const answer = await get(APP, '/private', {
        ...JSON_CALL,
        cookie,
        'x-forwarded-host': 'evil.test',
        'x-forwarded-proto': 'https',
        'x-forwarded-for': '203.0.113.9',
      });
      const headers = reached(before, answer);
      assert.match(String(headers['x-forwarded-host']), new RegExp(`^${APP}(:${port})?$`));
      assert.equal(headers['x-forwarded-proto'], 'http');
      assert.doesNotMatch(String(headers['x-forwarded-for']), /203\.0\.113\.9/);
    });

    test('after a logout on the auth host, the app refuses the next request at once', async () => {
      const cookie = await logIn(BOB);
      const before = app.seen.length;
      reached(before, await get(APP, '/private', { ...JSON_CALL, cookie }));
      const logout = await proxied(port, AUTH, '/sessions', {
        method: 'DELETE',
        headers: { cookie },
      });
      assert.equal(logout.status, 302);
      const next = await get(APP, '/private', { ...JSON_CALL, cookie });
      assert.equal(next.status, 401);
      assert.equal(app.seen.length, before + 1);
    });

    test('a host whose rule leaves the account out refuses it; one open to everyone needs no login', async () => {
      const bob = await logIn(BOB);
      let before = app.seen.length;
      const refused = await get(ADMIN_HOST, '/private', { ...JSON_CALL, cookie: bob });
      assert.equal(refused.status, 403);
      if (kind === 'caddy') {
        // Caddy passes Bienvenue's refusal on; nginx answers its own 403 page.
        assert.equal((JSON.parse(refused.body) as { code: string }).code, 'access_denied');
      }
      assert.equal(app.seen.length, before, 'the app received nothing');

      const admin = await logIn(ADMIN);
      before = app.seen.length;
      const allowed = await get(ADMIN_HOST, '/private', { ...JSON_CALL, cookie: admin });
      assert.equal(identity(reached(before, allowed))['remote-email'], ADMIN.email);

      before = app.seen.length;
      reached(before, await get(PUBLIC, '/', PAGE_LOAD));
    });

    test('no unfilled placeholder ever reached the app', () => {
      assertNoPlaceholders();
    });
  });
}
