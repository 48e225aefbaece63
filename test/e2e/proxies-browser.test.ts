/**
 * A browser's forward-auth journeys through the real proxies (nginx and Caddy, as in
 * proxies.test.ts): sent to log in from a protected page and back to it, logged out everywhere at
 * once, and never sent on to a foreign host. Chromium resolves the test hosts to loopback.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { browserProblem, launchBrowser } from '../support/browser.js';
import { proxyProblem, type ProxyKind } from '../support/proxies.js';
import {
  AUTH,
  APP,
  BOB,
  browserFlags,
  journeyCalls,
  startJourneySetUp,
  type JourneySetUp,
} from '../support/proxy-journeys.js';

const problems = {
  nginx: proxyProblem('nginx'),
  caddy: proxyProblem('caddy'),
  chromium: browserProblem(),
};
for (const [name, problem] of Object.entries(problems)) {
  if (problem === undefined) continue;
  assert.notEqual(process.env.CI, 'true', `${name} is required under CI: ${problem}`);
  process.stdout.write(`\n!!! Proxy browser tests with ${name} SKIPPED: ${problem}\n\n`);
}

const KINDS = ['nginx', 'caddy'] as const;
const setUps = new Map<ProxyKind, JourneySetUp>();
if (problems.chromium === undefined) {
  for (const kind of KINDS)
    if (problems[kind] === undefined) setUps.set(kind, await startJourneySetUp(kind));
}
const browser =
  problems.chromium === undefined
    ? await launchBrowser(browserFlags([...setUps.values()].map((setUp) => setUp.port)))
    : undefined;

for (const kind of KINDS) {
  const started = setUps.get(kind);

  describe(`a browser through ${kind}`, { skip: problems[kind] ?? problems.chromium }, () => {
    const { port, app } = started ?? ({} as JourneySetUp);
    const { origin, assertNoPlaceholders } = journeyCalls({ port, app });

    test('a browser is sent to log in and comes back to the page it asked for', async (t) => {
      assert.ok(browser);
      const context = await browser.newContext();
      context.setDefaultTimeout(10_000);
      t.after(() => context.close());
      const page = await context.newPage();
      const cspViolations: string[] = [];
      page.on('console', (message) => {
        if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
      });
      await page.goto(`${origin(APP)}/private?page=1`);
      await page.waitForURL((url) => url.origin === origin(AUTH) && url.pathname === '/login');
      assert.equal(new URL(page.url()).searchParams.get('rd'), `${origin(APP)}/private?page=1`);
      await page.getByLabel('Email address').fill(BOB.email);
      await page.getByLabel('Password', { exact: true }).fill(BOB.password);
      await page.getByRole('button', { name: 'Log in', exact: true }).click();
      await page.waitForURL(`${origin(APP)}/private?page=1`).catch((error: unknown) => {
        assert.deepEqual(cspViolations, [], "the login page's CSP blocked the redirect to rd");
        throw error;
      });
      const echoed = JSON.parse((await page.locator('pre').textContent()) ?? '') as {
        headers: Record<string, string>;
      };
      assert.equal(echoed.headers['remote-email'], BOB.email);
      assert.equal(echoed.headers['remote-user'], BOB.email);
      assert.match(echoed.headers['remote-user-id'] ?? '', /^\S+$/);

      // Logged out on the auth host, the open page's next call is refused, and its next page
      // load goes to the login page again.
      const authPage = await context.newPage();
      await authPage.goto(`${origin(AUTH)}/account`);
      await authPage.getByRole('button', { name: 'Log out' }).click();
      await authPage.waitForURL((url) => url.origin === origin(AUTH) && url.pathname === '/');
      // An XHR from the app's page (the test's code has no DOM types: the script is text).
      const xhrStatus = await page.evaluate<number>(`new Promise((done) => {
          const xhr = new XMLHttpRequest();
          xhr.open('GET', '/private');
          xhr.setRequestHeader('Accept', 'text/html');
          xhr.setRequestHeader('X-Requested-With', 'XMLHttpRequest');
          xhr.onloadend = () => done(xhr.status);
          xhr.send();
        })`);
      assert.equal(xhrStatus, 401);
      await page.goto(`${origin(APP)}/private`);
      await page.waitForURL((url) => url.origin === origin(AUTH) && url.pathname === '/login');
    });

    test('an rd that points at a foreign host lands on the account page', async (t) => {
      assert.ok(browser);
      const context = await browser.newContext();
      context.setDefaultTimeout(10_000);
      t.after(() => context.close());
      const page = await context.newPage();
      const foreign = encodeURIComponent(`http://evil.test:${port}/`);
      await page.goto(`${origin(AUTH)}/login?rd=${foreign}`);
      await page.getByLabel('Email address').fill(BOB.email);
      await page.getByLabel('Password', { exact: true }).fill(BOB.password);
      await page.getByRole('button', { name: 'Log in', exact: true }).click();
      await page.waitForURL(`${origin(AUTH)}/account`);
    });

    test('no unfilled placeholder ever reached the app', () => {
      assertNoPlaceholders();
    });
  });
}
