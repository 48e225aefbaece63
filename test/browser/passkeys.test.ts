/**
 * Passkeys in a real browser (headless chromium) with a virtual authenticator (the DevTools
 * protocol's WebAuthn domain: CTAP2, built in, resident keys, user verification), against the
 * real server process: a passkey added from the account page, a login with it without typing the
 * email, its removal, and the login it no longer makes. Each page is checked for accessibility
 * and photographed, like the other journeys.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { CDPSession, Page } from 'playwright-core';
import {
  accessibilityViolations,
  browserProblem,
  DESKTOP,
  launchBrowser,
  screenshots,
} from '../support/browser.js';
import { freePort } from '../support/ports.js';
import { formBody, startIsolatedServer } from '../support/process.js';
import { startSmtpServer } from '../support/smtp.js';

const problem = browserProblem();
if (problem !== undefined) {
  assert.notEqual(process.env.CI, 'true', `chromium is required under CI: ${problem}`);
  process.stdout.write(`\n!!! Browser tests SKIPPED: ${problem}\n\n`);
}

const EMAIL = 'passkey-journey@example.com';
const PASSWORD = 'correct horse battery';

/**
 * The server (at localhost: an RP ID is a domain name, never an address), its SMTP server and
 * the browser, for the whole file.
 */
async function start() {
  const smtp = await startSmtpServer();
  after(() => smtp.close());
  const port = await freePort();
  await startIsolatedServer(
    {
      BCRYPT_ROUNDS: '4',
      PUBLIC_URL: `http://localhost:${port}`,
      SMTP_URL: smtp.url,
      LOG_LEVEL: 'warn',
    },
    { port },
  );
  const browser = await launchBrowser(['--host-resolver-rules=MAP localhost 127.0.0.1']);
  return { smtp, port, browser };
}
const started = problem === undefined ? await start() : undefined;

describe('passkeys in a browser', { skip: problem }, () => {
  const { smtp, port, browser } = started ?? ({} as NonNullable<typeof started>);
  const base = `http://localhost:${port}`;

  async function check(page: Page, violations: string[], name: string) {
    assert.deepEqual(await accessibilityViolations(page), [], `axe on ${page.url()}`);
    assert.deepEqual(violations, []);
    await screenshots(page, name);
  }

  /** The next email that arrives for `address`. */
  async function mailTo(address: string) {
    for (;;) {
      const mail = await smtp.nextMessage();
      const to = Array.isArray(mail.to) ? mail.to[0] : mail.to;
      if (to?.value[0]?.address === address) return mail;
    }
  }

  /** The credentials the virtual authenticator holds. */
  async function held(cdp: CDPSession, authenticatorId: string) {
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    return credentials;
  }

  test('add a passkey, log in with it without the email, remove it, and it logs in no more', async () => {
    const signUp = await fetch(`http://127.0.0.1:${port}/users`, {
      method: 'POST',
      body: formBody({ email: EMAIL, password: PASSWORD }),
    });
    assert.equal(signUp.status, 200);

    const context = await browser.newContext({ viewport: DESKTOP });
    after(() => context.close());
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });

    // Log in with the password, then add a passkey from the account page.
    const login = await page.goto(`${base}/login`);
    assert.match(login?.headers()['content-security-policy'] ?? '', /script-src 'self'/);
    assert.doesNotMatch(login?.headers()['content-security-policy'] ?? '', /unsafe-inline/);
    await page.getByLabel('Email address').fill(EMAIL);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in', exact: true }).click();
    await page.waitForURL(`${base}/account`);
    assert.equal(
      await page.getByRole('button', { name: 'Log in', exact: true }).count(),
      0,
      'the account page, not the login page',
    );
    await page.getByLabel('Passkey name').fill('This browser');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.waitForURL(`${base}/account?notice=passkey_added`);
    await page.getByText('Your passkey was added').waitFor();
    const list = page.getByRole('list', { name: 'Your passkeys' });
    assert.match((await list.textContent()) ?? '', /This browser/);
    assert.equal((await held(cdp, authenticatorId)).length, 1);
    assert.equal((await held(cdp, authenticatorId))[0]?.isResidentCredential, true);
    assert.match((await mailTo(EMAIL)).subject ?? '', /passkey was added/);
    await check(page, violations, 'account-passkeys');

    // Log out, then log in with the passkey: no email typed. The login page offers passkeys in
    // the email field's autofill at once (conditional UI), which the virtual authenticator
    // answers by itself when it simulates the user's presence: without it, the page waits.
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(/\/(\?notice=logged_out)?$/u);
    const presence = (enabled: boolean) =>
      cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled });
    await presence(false);
    await page.goto(`${base}/login`);
    const email = page.getByLabel('Email address');
    assert.equal(await email.getAttribute('autocomplete'), 'username webauthn');
    const passkeyButton = page.getByRole('button', { name: 'Log in with a passkey' });
    await passkeyButton.waitFor();
    await check(page, violations, 'login-passkey');
    // The autofill's request waits on (presence is asked for when a request begins); the
    // button's, made from now on, is answered.
    await presence(true);
    await passkeyButton.click();
    await page.waitForURL(`${base}/account`);
    await page.getByText(`Logged in as ${EMAIL}`).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Log in', exact: true }).count(), 0);

    // And by the autofill alone: the login page, left to itself, logs in.
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(/\/(\?notice=logged_out)?$/u);
    await page.goto(`${base}/login`);
    await page.waitForURL(`${base}/account`);

    // Remove it from the account page.
    await page.getByRole('button', { name: 'Remove passkey This browser' }).click();
    await page.waitForURL(`${base}/account?notice=passkey_removed`);
    await page.getByText('That passkey was removed').waitFor();
    assert.equal(await page.getByRole('list', { name: 'Your passkeys' }).count(), 0);
    await page.getByText('You have no passkey yet').waitFor();
    assert.match((await mailTo(EMAIL)).subject ?? '', /passkey was removed/);

    // The authenticator still holds it, but the service no longer takes it.
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(/\/(\?notice=logged_out)?$/u);
    await page.goto(`${base}/login`);
    await page.getByRole('button', { name: 'Log in with a passkey' }).click();
    await page.getByText('This passkey was not accepted').waitFor();
    assert.equal(new URL(page.url()).pathname, '/login');
    assert.equal((await held(cdp, authenticatorId)).length, 1);
    await check(page, violations, 'login-passkey-refused');
  });

  test('the pages still work without JavaScript: no passkey button, a note on the account page', async () => {
    const context = await browser.newContext({ viewport: DESKTOP, javaScriptEnabled: false });
    after(() => context.close());
    const page = await context.newPage();
    await page.goto(`${base}/login`);
    assert.equal(await page.getByRole('button', { name: 'Log in with a passkey' }).count(), 0);
    await page.getByLabel('Email address').fill(EMAIL);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in', exact: true }).click();
    await page.waitForURL(`${base}/account`);
    await page.getByText('Adding a passkey needs JavaScript').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Add a passkey' }).count(), 0);
  });
});
