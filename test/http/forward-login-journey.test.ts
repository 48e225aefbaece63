/**
 * The whole forward-auth journey through inject(): a proxy's check without a session sends the
 * browser to the login page with `rd`, the login leads back to the URL it wanted, and the session
 * it opened passes the next check. PUBLIC_URL=https://auth.example.com, COOKIE_DOMAIN=example.com.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { form, startTestService, submit } from '../support/service.js';

const PUBLIC_URL = 'https://auth.example.com';
const EMAIL = 'journey@example.com';
const PASSWORD = 'correct horse';
const BROWSER = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

/** How each endpoint's proxy describes a request to `url`. */
const PROXIES = {
  '/auth/forward': (url: URL) => ({
    'x-forwarded-method': 'GET',
    'x-forwarded-proto': url.protocol.slice(0, -1),
    'x-forwarded-host': url.host,
    'x-forwarded-uri': `${url.pathname}${url.search}`,
  }),
  '/auth/request': (url: URL) => ({ 'x-original-url': url.href, 'x-original-method': 'GET' }),
} as const;

function hiddenRd(response: LightMyRequestResponse): string | undefined {
  const match = /<input type="hidden" name="rd" value="([^"]*)"/.exec(response.body);
  return match?.[1]?.replaceAll('&amp;', '&');
}

/** The shared session cookie a login set, as the browser sends it to every host under the domain. */
function sharedSession(response: LightMyRequestResponse): string | undefined {
  return response.cookies.find(
    (cookie) => cookie.name === 'session_id' && cookie.domain === 'example.com',
  )?.value;
}

async function journey(app: FastifyInstance, endpoint: keyof typeof PROXIES, wanted: string) {
  const headers = PROXIES[endpoint](new URL(wanted));
  const check = await app.inject({
    method: 'GET',
    url: endpoint,
    headers: { ...headers, ...BROWSER },
  });
  const location = String(check.headers.location);
  assert.ok(location.startsWith(`${PUBLIC_URL}/login?rd=`), location);

  const loginPage = await app.inject({
    method: 'GET',
    url: location.slice(PUBLIC_URL.length),
    headers: BROWSER,
  });
  const rd = hiddenRd(loginPage);
  assert.ok(rd !== undefined, 'the login page keeps rd');
  const fields = { email: EMAIL, password: PASSWORD, rd };
  const loggedIn = await app.inject({
    method: 'POST',
    url: '/login',
    headers: { ...form(fields).headers, origin: PUBLIC_URL },
    payload: form(fields).payload,
  });
  assert.equal(loggedIn.statusCode, 303);

  const session = sharedSession(loggedIn);
  assert.ok(session !== undefined);
  const again = await app.inject({
    method: 'GET',
    url: endpoint,
    headers: { ...headers, ...BROWSER },
    cookies: { session_id: session },
  });
  assert.equal(again.statusCode, 200, 'the new session passes the check');
  assert.equal(again.headers['remote-email'], EMAIL);
  return loggedIn.headers.location;
}

describe('forward auth → login → back', () => {
  const wanted = [
    'https://app.example.com/private/report?year=2026&view=a%2Fb',
    'https://app.example.com:8443/caf%C3%A9',
    'https://example.com/',
  ];
  for (const endpoint of Object.keys(PROXIES) as (keyof typeof PROXIES)[]) {
    for (const url of wanted) {
      test(`${endpoint}: a browser that wanted ${url} lands back there`, async () => {
        const { app } = await startTestService({ PUBLIC_URL, COOKIE_DOMAIN: 'example.com' });
        await submit(app, 'POST', '/users', { email: EMAIL, password: PASSWORD });
        assert.equal(await journey(app, endpoint, url), new URL(url).href);
      });
    }
  }
});
