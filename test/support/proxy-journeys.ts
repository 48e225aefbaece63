/**
 * The set-up the forward-auth journeys share (test/e2e/proxies*.test.ts): the test hosts, two
 * accounts, the access rules between them, for a proxy its Bienvenue and its app, and the calls
 * the tests make through it.
 *
 * Hosts: auth.* is Bienvenue; app.* needs any login (the default rule); public.* is open to
 * everyone; admin.* admits only ADMIN.
 */
import assert from 'node:assert/strict';
import { freePort } from './ports.js';
import { startProxy, type ProxyKind } from './proxies.js';
import {
  cookiePair,
  proxied,
  startBienvenueBehindProxy,
  startEchoApp,
  TEST_DOMAIN,
  type EchoApp,
  type ProxiedAnswer,
} from './protected-app.js';

export const AUTH = `auth.${TEST_DOMAIN}`;
export const APP = `app.${TEST_DOMAIN}`;
export const PUBLIC = `public.${TEST_DOMAIN}`;
export const ADMIN_HOST = `admin.${TEST_DOMAIN}`;
export const BOB = { email: `bob@${TEST_DOMAIN}`, password: 'correct horse battery' };
export const ADMIN = { email: `admin@${TEST_DOMAIN}`, password: 'admin horse battery' };

/** The access rules Bienvenue runs with (ACCESS_RULES_FILE). */
export const RULES = `default: logged_in
rules:
  - host: ${PUBLIC}
    policy: everyone
  - host: ${ADMIN_HOST}
    policy: [${ADMIN.email}]
`;

/** What a client slips in, hoping the app takes it for the proxy's word. */
export const SPOOFED = {
  'Remote-User': ADMIN.email,
  'Remote-Email': ADMIN.email,
  'Remote-User-Id': 'spoofed-id',
  'Remote-Email-Verified': 'true',
  Remote_User: ADMIN.email,
  'Remote-Name': 'Admin',
  'Remote-Groups': 'admins',
};

export type JourneySetUp = Awaited<ReturnType<typeof startJourneySetUp>>;

/** `kind` in front of a Bienvenue and an app of its own, with BOB and ADMIN signed up. */
export async function startJourneySetUp(kind: ProxyKind) {
  const port = await freePort();
  const app = await startEchoApp();
  const bienvenue = await startBienvenueBehindProxy({
    proxyPort: port,
    authHost: AUTH,
    rules: RULES,
  });
  const proxy = await startProxy(kind, {
    port,
    authHost: AUTH,
    appHosts: [APP, PUBLIC, ADMIN_HOST],
    bienvenuePort: bienvenue.port,
    appPort: app.port,
  });
  for (const account of [BOB, ADMIN]) {
    const signUp = await proxied(port, AUTH, '/users', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(account).toString(),
    });
    assert.equal(signUp.status, 200, signUp.body);
  }
  return { port, app, proxy };
}

/**
 * Chromium resolves the test hosts to loopback, and takes their plain-HTTP origins for the
 * HTTPS ones users have: only to a secure origin does it send Sec-Fetch-Site, which vouches for
 * the login form's post (see src/http/csrf.ts).
 */
export function browserFlags(ports: readonly number[]): string[] {
  const origins = ports.flatMap((port) =>
    [AUTH, APP, PUBLIC, ADMIN_HOST].map((host) => `http://${host}:${port}`),
  );
  return [
    `--host-resolver-rules=MAP *.${TEST_DOMAIN} 127.0.0.1`,
    `--unsafely-treat-insecure-origin-as-secure=${origins.join(',')}`,
  ];
}

/** The calls a journey makes through the proxy of `setUp`, and what it reads of the app's side. */
export function journeyCalls(setUp: { port: number; app: EchoApp }) {
  const { port, app } = setUp;
  return {
    origin: (host: string) => `http://${host}:${port}`,
    get: (host: string, path: string, headers: Record<string, string> = {}) =>
      proxied(port, host, path, { headers }),

    /** Logs in through the proxy on the auth host; returns the Cookie header to send. */
    logIn: async (account: { email: string; password: string }): Promise<string> => {
      const login = await proxied(port, AUTH, '/sessions', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(account).toString(),
      });
      assert.equal(login.status, 200, login.body);
      assert.match(String(login.headers['set-cookie']), new RegExp(`Domain=${TEST_DOMAIN}`, 'i'));
      const pair = cookiePair(login, 'session_id');
      assert.ok(pair);
      return pair;
    },

    /** The request `answer` let through to the app; fails when the app saw nothing new. */
    reached: (before: number, answer: ProxiedAnswer) => {
      assert.equal(answer.status, 200, answer.body);
      assert.equal(app.seen.length, before + 1, 'the app received the request');
      const seen = app.seen.at(-1);
      assert.ok(seen);
      return seen.headers;
    },

    /** Fails if a header the app received held a placeholder the proxy left unfilled. */
    assertNoPlaceholders: () => {
      assert.ok(app.seen.length > 0);
      for (const seen of app.seen) {
        for (const [name, value] of Object.entries(seen.headers)) {
          assert.doesNotMatch(String(value), /\{http\./, `${name} on ${seen.url}`);
        }
      }
    },
  };
}

/** Headers the app received whose name starts with "remote", as the app would read them. */
export const identity = (headers: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(headers).filter(([name]) => /^remote/i.test(name)));

/** What a page load sends as Accept, and what an API call sends. */
export const PAGE_LOAD = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };
export const JSON_CALL = { accept: 'application/json' };
