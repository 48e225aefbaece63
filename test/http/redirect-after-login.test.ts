/**
 * The web pages' `rd`: carried from the login page's URL through its form, through sign-up and
 * the password reset pages, and followed after a login only when safeRedirectTarget accepts it.
 * The service runs as forward auth would: PUBLIC_URL=https://auth.example.com,
 * COOKIE_DOMAIN=example.com.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { form, startTestService, submit } from '../support/service.js';

const FORWARD_AUTH = { PUBLIC_URL: 'https://auth.example.com', COOKIE_DOMAIN: 'example.com' };
const EMAIL = 'rd@example.com';
const PASSWORD = 'correct horse';
const HTML = { accept: 'text/html' };
/** Where forward auth sent the browser from, with a query to show that it survives whole. */
const TARGET = 'https://app.example.com/private/report?year=2026&view=full';

/** A post of one of our own pages, as a browser sends it; `payload` as is, for repeated fields. */
function pagePost(app: FastifyInstance, url: string, payload: string) {
  return app.inject({
    method: 'POST',
    url,
    headers: { ...form({}).headers, origin: 'https://auth.example.com' },
    payload,
  });
}
const fields = (record: Record<string, string>) => new URLSearchParams(record).toString();
const page = (app: FastifyInstance, url: string) =>
  app.inject({ method: 'GET', url, headers: HTML });
const withRd = (path: string, rd: string) =>
  `${path}${path.includes('?') ? '&' : '?'}rd=${encodeURIComponent(rd)}`;

/** The hidden rd field of the page's form, as the browser will post it back. */
function hiddenRd(response: LightMyRequestResponse): string | undefined {
  const match = /<input type="hidden" name="rd" value="([^"]*)"/.exec(response.body);
  return match?.[1]?.replaceAll('&amp;', '&');
}

/** The page's links to `path`, with `&amp;` read as `&`. */
function linksTo(response: LightMyRequestResponse, path: string): string[] {
  return [...response.body.matchAll(/href="([^"]*)"/g)]
    .map((match) => (match[1] ?? '').replaceAll('&amp;', '&'))
    .filter((href) => href === path || href.startsWith(`${path}?`));
}

async function withAccount(env: Record<string, string> = FORWARD_AUTH) {
  const service = await startTestService(env);
  const signUp = await submit(service.app, 'POST', '/users', { email: EMAIL, password: PASSWORD });
  assert.equal(signUp.statusCode, 200);
  return service;
}

describe('rd on the login page', () => {
  test("the login page's form-action lets its post lead on to rd's origin, and no further", async () => {
    const { app } = await withAccount();
    const formAction = (response: LightMyRequestResponse) =>
      /form-action ([^;]*)/.exec(String(response.headers['content-security-policy']))?.[1];
    // Browsers apply form-action to the redirect after the post: without the origin, the
    // login's 303 to another host is blocked and the browser stays on the login page.
    assert.equal(
      formAction(await page(app, withRd('/login', TARGET))),
      "'self' https://app.example.com",
    );
    assert.equal(formAction(await page(app, '/login')), "'self'");
    assert.equal(formAction(await page(app, withRd('/login', 'https://evil.test/'))), "'self'");
    const refused = await pagePost(
      app,
      '/login',
      fields({ email: EMAIL, password: 'wrong', rd: TARGET }),
    );
    assert.equal(formAction(refused), "'self' https://app.example.com");
    assert.equal(formAction(await page(app, withRd('/signup', TARGET))), "'self'");
  });

  test('a safe rd goes into the form and the links, and the login leads there', async () => {
    const { app } = await withAccount();
    const login = await page(app, withRd('/login', TARGET));
    assert.equal(login.statusCode, 200);
    assert.equal(hiddenRd(login), TARGET);
    assert.deepEqual(linksTo(login, '/signup'), [withRd('/signup', TARGET)]);
    assert.deepEqual(linksTo(login, '/forgot'), [withRd('/forgot', TARGET)]);

    const loggedIn = await pagePost(
      app,
      '/login',
      fields({ email: EMAIL, password: PASSWORD, rd: TARGET }),
    );
    assert.equal(loggedIn.statusCode, 303);
    assert.equal(loggedIn.headers.location, TARGET);
    const shared = loggedIn.cookies.find(
      (cookie) => cookie.name === 'session_id' && cookie.domain === 'example.com',
    );
    assert.ok(shared?.value, 'the target host receives the session');
  });

  test('the login leads to the normalized URL, not to the text sent', async () => {
    const { app } = await withAccount();
    const rd = 'HTTPS://App.Example.COM:443/a/../private';
    const loggedIn = await pagePost(
      app,
      '/login',
      fields({ email: EMAIL, password: PASSWORD, rd }),
    );
    assert.equal(loggedIn.headers.location, 'https://app.example.com/private');
  });

  test('a refused login keeps rd in the form shown again, and the next try leads there', async () => {
    const { app } = await withAccount();
    const wrong = await pagePost(
      app,
      '/login',
      fields({ email: EMAIL, password: 'no', rd: TARGET }),
    );
    assert.equal(wrong.statusCode, 401);
    assert.equal(hiddenRd(wrong), TARGET);
    const empty = await pagePost(app, '/login', fields({ email: EMAIL, password: '', rd: TARGET }));
    assert.equal(empty.statusCode, 400);
    assert.equal(hiddenRd(empty), TARGET);
    const right = await pagePost(
      app,
      '/login',
      fields({ email: EMAIL, password: PASSWORD, rd: TARGET }),
    );
    assert.equal(right.headers.location, TARGET);
  });

  test('without rd, or after a page without one, the login leads to /account', async () => {
    const { app } = await withAccount();
    const login = await page(app, '/login');
    assert.equal(hiddenRd(login), undefined);
    assert.deepEqual(linksTo(login, '/signup'), ['/signup']);
    const loggedIn = await pagePost(app, '/login', fields({ email: EMAIL, password: PASSWORD }));
    assert.equal(loggedIn.headers.location, '/account');
  });

  const hostile = [
    'https://evil.test/',
    'https://example.com.evil.test/',
    'https://evil.test#@app.example.com',
    '//evil.test/',
    '/\\evil.test',
    'javascript:alert(document.cookie)',
    'https://app.example.com/\t"><script>alert(1)</script>',
    'https://exаmple.com/',
    'http://app.example.com/',
  ];
  for (const rd of hostile) {
    test(`a hostile rd is neither shown nor followed: ${JSON.stringify(rd)}`, async () => {
      const { app } = await withAccount();
      for (const path of ['/login', '/signup', '/forgot', '/reset_password?token=x']) {
        const shown = await page(app, withRd(path, rd));
        assert.equal(shown.statusCode, 200, path);
        assert.equal(hiddenRd(shown), undefined, path);
        assert.doesNotMatch(shown.body, /evil|<script>|alert\(|exаmple|rd=/i, path);
      }
      const wrong = await pagePost(app, '/login', fields({ email: EMAIL, password: 'no', rd }));
      assert.doesNotMatch(wrong.body, /evil|<script>|alert\(|exаmple|name="rd"/i);
      const loggedIn = await pagePost(
        app,
        '/login',
        fields({ email: EMAIL, password: PASSWORD, rd }),
      );
      assert.equal(loggedIn.statusCode, 303);
      assert.equal(loggedIn.headers.location, '/account');
    });
  }

  test('a repeated rd is dropped, in the URL and in the form', async () => {
    const { app } = await withAccount();
    const twice = `rd=${encodeURIComponent(TARGET)}&rd=${encodeURIComponent(TARGET)}`;
    const shown = await page(app, `/login?${twice}`);
    assert.equal(shown.statusCode, 200);
    assert.equal(hiddenRd(shown), undefined);
    const credentials = fields({ email: EMAIL, password: PASSWORD });
    const loggedIn = await pagePost(app, '/login', `${credentials}&${twice}`);
    assert.equal(loggedIn.statusCode, 303);
    assert.equal(loggedIn.headers.location, '/account');
  });

  test('without COOKIE_DOMAIN only PUBLIC_URL’s own origin is followed', async () => {
    const { app } = await withAccount({ PUBLIC_URL: 'https://auth.example.com' });
    const logIn = (rd: string) =>
      pagePost(app, '/login', fields({ email: EMAIL, password: PASSWORD, rd }));
    assert.equal((await logIn(TARGET)).headers.location, '/account');
    assert.equal((await logIn('https://auth.example.com:8443/')).headers.location, '/account');
    const own = 'https://auth.example.com/account?from=rd';
    assert.equal((await logIn(own)).headers.location, own);
  });

  test('the API’s POST /sessions ignores rd', async () => {
    const { app } = await withAccount();
    const login = await submit(app, 'POST', '/sessions', {
      email: EMAIL,
      password: PASSWORD,
      rd: TARGET,
    });
    assert.equal(login.statusCode, 200);
    assert.equal(login.headers.location, undefined);
  });
});

describe('rd through sign-up and password reset', () => {
  test('sign-up keeps rd on its way to the login page, which then leads there', async () => {
    const { app } = await startTestService(FORWARD_AUTH);
    const signUpPage = await page(app, withRd('/signup', TARGET));
    assert.equal(hiddenRd(signUpPage), TARGET);
    assert.deepEqual(linksTo(signUpPage, '/login'), [withRd('/login', TARGET)]);

    const weak = await pagePost(
      app,
      '/signup',
      fields({ email: EMAIL, password: 'short', rd: TARGET }),
    );
    assert.equal(weak.statusCode, 400);
    assert.equal(hiddenRd(weak), TARGET, 'a refused sign-up keeps it');

    const created = await pagePost(
      app,
      '/signup',
      fields({ email: EMAIL, password: PASSWORD, rd: TARGET }),
    );
    assert.equal(created.statusCode, 303);
    const next = String(created.headers.location);
    assert.equal(next, withRd('/login?notice=created', TARGET));
    const login = await page(app, next);
    assert.match(login.body, /Your account is ready/);
    const loggedIn = await pagePost(
      app,
      '/login',
      fields({ email: EMAIL, password: PASSWORD, rd: String(hiddenRd(login)) }),
    );
    assert.equal(loggedIn.headers.location, TARGET);
  });

  test('a hostile rd is dropped by sign-up', async () => {
    const { app } = await startTestService(FORWARD_AUTH);
    const rd = 'https://evil.test/';
    const created = await pagePost(
      app,
      '/signup',
      fields({ email: EMAIL, password: PASSWORD, rd }),
    );
    assert.equal(created.headers.location, '/login?notice=created');
  });

  test('a completed reset leads to the login page with rd, which then leads there', async () => {
    const { app, auth, mailer } = await withAccount();
    const forgotPage = await page(app, withRd('/forgot', TARGET));
    assert.equal(hiddenRd(forgotPage), TARGET);
    assert.deepEqual(linksTo(forgotPage, '/login'), [withRd('/login', TARGET)]);
    const sent = await pagePost(app, '/forgot', fields({ email: EMAIL, rd: TARGET }));
    assert.equal(sent.statusCode, 200);
    assert.deepEqual(linksTo(sent, '/forgot'), [withRd('/forgot', TARGET)]);

    await auth.drain();
    const link = /https:\/\/auth\.example\.com\/reset_password\?\S+/.exec(
      mailer.sent[0]?.text ?? '',
    )?.[0];
    assert.ok(link !== undefined, 'the email holds a link');
    const emailed = new URL(link);
    const token = emailed.searchParams.get('token') ?? '';
    assert.match(token, /^[0-9a-f-]{36}$/, 'the link holds a token');
    assert.equal(emailed.searchParams.get('rd'), TARGET, 'the emailed link carries rd on');
    const resetPage = await page(app, `${emailed.pathname}${emailed.search}`);
    assert.equal(hiddenRd(resetPage), TARGET);
    const newPassword = 'battery staple';
    const weak = await pagePost(
      app,
      '/reset',
      fields({ token, email: EMAIL, new_password: 'short', rd: TARGET }),
    );
    assert.equal(weak.statusCode, 400);
    assert.equal(hiddenRd(weak), TARGET, 'a refused reset keeps it');
    const reset = await pagePost(
      app,
      '/reset',
      fields({ token, email: EMAIL, new_password: newPassword, rd: TARGET }),
    );
    assert.equal(reset.statusCode, 303);
    const next = String(reset.headers.location);
    assert.equal(next, withRd('/login?notice=password_reset', TARGET));
    const login = await page(app, next);
    const loggedIn = await pagePost(
      app,
      '/login',
      fields({ email: EMAIL, password: newPassword, rd: String(hiddenRd(login)) }),
    );
    assert.equal(loggedIn.headers.location, TARGET);
  });

  test('a hostile rd is dropped by a completed reset', async () => {
    const { app, auth } = await withAccount();
    const token = await auth.getResetPasswordToken(EMAIL);
    const reset = await pagePost(
      app,
      '/reset',
      fields({ token, email: EMAIL, new_password: 'battery staple', rd: '//evil.test/' }),
    );
    assert.equal(reset.statusCode, 303);
    assert.equal(reset.headers.location, '/login?notice=password_reset');
  });
});
