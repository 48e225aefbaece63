/**
 * Passkeys on the pages, on the engine under test: the login page's passkey autofill and button,
 * the account page's Passkeys section and its remove form, and the two scripts served from the
 * service itself (the library's bundle and ours), under a Content-Security-Policy without
 * `unsafe-inline`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { addPasskey, logInWithPasskey } from '../support/passkeys.js';
import { form, sessionCookie, signUpAndLogIn, startTestService } from '../support/service.js';

const EMAIL = 'page@example.com';
const PASSWORD = 'correct horse';
const OWN_PAGE = { origin: 'http://auth.test', accept: 'text/html' };

const page = (app: FastifyInstance, url: string, token?: string) =>
  app.inject({
    method: 'GET',
    url,
    headers: { accept: 'text/html' },
    ...(token !== undefined && { cookies: { session_id: token } }),
  });

function removeForm(app: FastifyInstance, token: string, id: string, headers = OWN_PAGE) {
  const body = form({ id });
  return app.inject({
    method: 'POST',
    url: '/account/passkeys/remove',
    cookies: { session_id: token },
    payload: body.payload,
    headers: { ...body.headers, ...headers },
  });
}

describe('passkeys on the pages', () => {
  test('the login page offers passkeys in the email autofill and by a button its script shows', async () => {
    const { app } = await startTestService();
    const login = await page(app, '/login');
    assert.equal(login.statusCode, 200);
    assert.match(login.body, /<input[^>]*name="email"[^>]*autocomplete="username webauthn"/);
    assert.match(login.body, /<script src="\/webauthn\.js\?v=14\.0\.0" defer><\/script>/);
    assert.match(login.body, /<script src="\/passkeys\.js" defer><\/script>/);
    assert.match(login.body, /<div[^>]*data-passkey-login[^>]*hidden[^>]*>/);
    assert.match(login.body, /Log in with a passkey/);
    const policy = String(login.headers['content-security-policy']);
    assert.match(policy, /script-src 'self'/);
    assert.doesNotMatch(policy, /unsafe-inline/);
    assert.doesNotMatch(login.body, /<script>/, 'no inline script');
  });

  test('the scripts come from the service, as JavaScript, the bundle kept long', async () => {
    const { app } = await startTestService();
    const bundle = await app.inject({ method: 'GET', url: '/webauthn.js?v=14.0.0' });
    assert.equal(bundle.statusCode, 200);
    assert.equal(bundle.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.match(String(bundle.headers['cache-control']), /public, max-age=31536000/);
    assert.match(bundle.body, /SimpleWebAuthnBrowser/);
    assert.match(bundle.body, /@simplewebauthn\/browser@14\.0\.0/);
    const own = await app.inject({ method: 'GET', url: '/passkeys.js' });
    assert.equal(own.statusCode, 200);
    assert.equal(own.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.match(own.body, /\/sessions\/passkey\/options/);
    // Every other answer is still never cached.
    const other = await page(app, '/login');
    assert.equal(other.headers['cache-control'], 'no-store');
  });

  test('the account page lists the passkeys; its form removes one, only the account’s own', async () => {
    const { app } = await startTestService();
    const token = await signUpAndLogIn(app, EMAIL, PASSWORD);
    const empty = await page(app, '/account', token);
    assert.match(empty.body, /<h2 id="passkeys-heading">Passkeys<\/h2>/);
    assert.match(empty.body, /You have no passkey yet/);
    assert.match(empty.body, /Adding a passkey needs JavaScript/);
    assert.match(empty.body, /<form data-passkey-add hidden/);
    const { answer } = await addPasskey(app, token, { name: 'Phone <b>' });
    const { id } = answer.json<{ id: string }>();
    const listed = await page(app, '/account', token);
    assert.match(listed.body, /<strong>Phone &lt;b&gt;<\/strong>/);
    assert.match(listed.body, /never used/);

    const other = await signUpAndLogIn(app, 'other@example.com', PASSWORD);
    const notTheirs = await removeForm(app, other, id);
    assert.equal(notTheirs.statusCode, 303);
    assert.equal(notTheirs.headers.location, '/account?notice=passkey_gone');
    const crossSite = await removeForm(app, token, id, {
      origin: 'http://evil.test',
      accept: 'text/html',
    });
    assert.equal(crossSite.statusCode, 403);
    assert.match((await page(app, '/account', token)).body, /Phone &lt;b&gt;/);

    const removed = await removeForm(app, token, id);
    assert.equal(removed.statusCode, 303);
    assert.equal(removed.headers.location, '/account?notice=passkey_removed');
    const after = await page(app, '/account?notice=passkey_removed', token);
    assert.match(after.body, /That passkey was removed/);
    assert.match(after.body, /You have no passkey yet/);
  });

  test('a passkey-only account changes its address and is deleted from its page without a password, after a recent login', async () => {
    const service = await startTestService();
    const { app } = service;
    const token = await signUpAndLogIn(app, EMAIL, PASSWORD);
    const { authenticator } = await addPasskey(app, token);
    const postForm = (url: string, fields: Record<string, string>, session = token) => {
      const body = form(fields);
      return app.inject({
        method: 'POST',
        url,
        cookies: { session_id: session },
        payload: body.payload,
        headers: { ...body.headers, ...OWN_PAGE },
      });
    };
    // With a password, the delete form asks for it, and an empty one is refused.
    assert.match((await page(app, '/account', token)).body, /id="delete-password"/);
    const empty = await postForm('/account/delete', { password: '' });
    assert.equal(empty.statusCode, 400);
    assert.match(empty.body, /Enter your password/);
    // The password goes through the API: no page removes it.
    const removed = await app.inject({
      method: 'DELETE',
      url: '/profile/password',
      cookies: { session_id: token },
      headers: { 'content-type': 'application/json' },
      payload: '{}',
    });
    assert.equal(removed.statusCode, 200, removed.body);
    const account = await page(app, '/account', token);
    assert.doesNotMatch(account.body, /id="delete-password"/);
    assert.doesNotMatch(account.body, /id="change-email-password"/);
    assert.match(account.body, /id="change-email-new-email"/);
    assert.match(account.body, /can be deleted within 10 minutes of logging in/);
    service.clock.advanceSeconds(11 * 60);
    const stale = await postForm('/account/delete', {});
    assert.equal(stale.statusCode, 403);
    assert.match(stale.body, /Log in again with your passkey/);
    const staleChange = await postForm('/account/email', { new_email: 'moved@example.com' });
    assert.equal(staleChange.statusCode, 403);
    assert.match(staleChange.body, /Log in again with your passkey, then change the address/);
    assert.equal((await page(app, '/account', token)).statusCode, 200, 'still there');
    const fresh = sessionCookie(await logInWithPasskey(app, authenticator)) ?? '';
    const changed = await postForm('/account/email', { new_email: 'moved@example.com' }, fresh);
    assert.equal(changed.statusCode, 303);
    assert.equal(changed.headers.location, '/account?notice=email_change_sent');
    const deleted = await postForm('/account/delete', {}, fresh);
    assert.equal(deleted.statusCode, 303);
    assert.equal(deleted.headers.location, '/?notice=deleted');
    assert.equal((await page(app, '/account', fresh)).headers.location, '/login');
  });

  test('the remove form without a session leads to the login page', async () => {
    const { app } = await startTestService();
    const answer = await removeForm(app, 'not-a-session', 'x');
    assert.equal(answer.statusCode, 303);
    assert.equal(answer.headers.location, '/login');
  });
});
