/**
 * The web pages in a real browser (headless chromium), against the real server process and a real
 * SMTP server: the journeys people take, each page checked for accessibility (no serious or
 * critical axe-core violation) and photographed at desktop and phone widths.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import {
  accessibilityViolations,
  browserProblem,
  DESKTOP,
  launchBrowser,
  PHONE,
  screenshots,
} from '../support/browser.js';
import { freePort } from '../support/ports.js';
import { formBody, startIsolatedServer } from '../support/process.js';
import { startSmtpServer } from '../support/smtp.js';
import { totpCodeAt } from '../support/totp.js';

const problem = browserProblem();
if (problem !== undefined) {
  assert.notEqual(process.env.CI, 'true', `chromium is required under CI: ${problem}`);
  process.stdout.write(`\n!!! Browser tests SKIPPED: ${problem}\n\n`);
}

/** The server process, its SMTP server and the browser, for the whole file (closed at its end). */
async function start() {
  const smtp = await startSmtpServer();
  after(() => smtp.close());
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  await startIsolatedServer(
    {
      BCRYPT_ROUNDS: '4',
      PUBLIC_URL: base,
      SMTP_URL: smtp.url,
      LOG_LEVEL: 'warn',
      // The default: sign-ups mail a link that proves the address.
      EMAIL_VERIFICATION: 'optional',
      // Two-factor authentication needs a key (on PostgreSQL none is made).
      SECRET_KEY: randomBytes(32).toString('base64'),
    },
    { port },
  );
  return { smtp, base, browser: await launchBrowser() };
}
const started = problem === undefined ? await start() : undefined;

describe('web pages in a browser', { skip: problem }, () => {
  const { smtp, base, browser } = started ?? ({} as NonNullable<typeof started>);
  let context: BrowserContext | undefined;
  let page: Page;
  let cspViolations: string[];

  // Each journey in a fresh context: no cookie carried over.
  const freshPage = async () => {
    await context?.close();
    context = await browser.newContext({ viewport: DESKTOP });
    page = await context.newPage();
    cspViolations = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
  };

  /** Checks the page the browser shows: accessible, under our CSP, no CSP violation. */
  async function check(name?: string) {
    assert.deepEqual(await accessibilityViolations(page), [], `axe on ${page.url()}`);
    assert.deepEqual(cspViolations, []);
    if (name !== undefined) await screenshots(page, name);
  }

  async function open(path: string) {
    const response = await page.goto(`${base}${path}`);
    assert.ok(response);
    assert.match(response.headers()['content-security-policy'] ?? '', /script-src 'self'/);
    assert.equal(response.headers()['referrer-policy'], 'no-referrer');
    return response;
  }

  const signUpByApi = async (email: string, password: string) => {
    const response = await fetch(`${base}/users`, {
      method: 'POST',
      body: formBody({ email, password }),
    });
    assert.equal(response.status, 200);
  };

  async function logIn(email: string, password: string) {
    await open('/login');
    await page.getByLabel('Email address').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Log in', exact: true }).click();
  }

  /**
   * The next email that arrives for `address` with `subject` (others are passed over); by
   * default any but the verification link every sign-up sends.
   */
  async function mailTo(address: string, subject?: string) {
    for (;;) {
      const mail = await smtp.nextMessage();
      const to = Array.isArray(mail.to) ? mail.to[0] : mail.to;
      const wanted =
        subject === undefined
          ? mail.subject !== 'Confirm your email address'
          : mail.subject === subject;
      if (to?.value[0]?.address === address && wanted) return mail;
    }
  }

  test('sign up, confirm the address from the emailed link, log in, see the account, log out', async () => {
    await freshPage();
    await open('/');
    await check('welcome');
    await page.getByRole('link', { name: 'Create an account' }).click();
    await check('signup');
    await page.getByLabel('Email address').fill('ada@example.com');
    await page.getByLabel('Password').fill('analytical engine');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Check your inbox' }).waitFor();
    await check('signup-check-inbox');

    // The emailed link opens a page; only its button confirms (a mail scanner's visit does not).
    const mail = await mailTo('ada@example.com', 'Confirm your email address');
    const link = new RegExp(`${base}/verify_email\\?token=\\S+`).exec(mail.text ?? '')?.[0];
    assert.ok(link, mail.text);
    await page.goto(link);
    await check('verify-email');
    await page.getByRole('button', { name: 'Confirm my address' }).click();
    await page.waitForURL(`${base}/login?notice=email_verified`);
    await page.getByText('Your email address is verified').waitFor();
    await check('login');
    await page.getByLabel('Email address').fill('ada@example.com');
    await page.getByLabel('Password', { exact: true }).fill('analytical engine');
    await page.getByRole('button', { name: 'Log in', exact: true }).click();
    await page.waitForURL(`${base}/account`);
    await page.getByText('ada@example.com').first().waitFor();
    const address = page.getByRole('region', { name: 'Email address' });
    await address.getByText('verified', { exact: true }).waitFor();
    await check('account');
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(`${base}/?notice=logged_out`);
    await page.getByText('You are logged out').waitFor();
    await check();
    assert.deepEqual(await context?.cookies(), []);
    await open('/account');
    assert.equal(new URL(page.url()).pathname, '/login', 'the account page needs a session');
  });

  test('change email: the link goes to the new address, confirming it there moves the account', async () => {
    await freshPage();
    await signUpByApi('gus@example.com', 'moving house soon');
    await logIn('gus@example.com', 'moving house soon');
    await page.waitForURL(`${base}/account`);
    const address = page.getByRole('region', { name: 'Email address' });
    await address.getByText('not verified').waitFor();
    await page.getByLabel('New email address').fill('gus@elsewhere.example');
    await page.getByLabel('Your password, to change the address').fill('not it');
    await page.getByRole('button', { name: 'Change email' }).click();
    await page.getByRole('alert').getByText('This is not your password').waitFor();
    await check('change-email-error');
    await page.getByLabel('New email address').fill('gus@elsewhere.example');
    await page.getByLabel('Your password, to change the address').fill('moving house soon');
    await page.getByRole('button', { name: 'Change email' }).click();
    await page.waitForURL(`${base}/account?notice=email_change_sent`);
    await check('change-email-sent');

    const notice = await mailTo('gus@example.com');
    assert.doesNotMatch(notice.text ?? '', /https?:\/\//, 'the old address gets no link');
    const mail = await mailTo('gus@elsewhere.example');
    const link = new RegExp(`${base}/confirm_email_change\\?token=\\S+`).exec(mail.text ?? '')?.[0];
    assert.ok(link, mail.text);
    await page.goto(link);
    await check('confirm-email-change');
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.waitForURL(`${base}/account?notice=email_changed`);
    await address.getByText('gus@elsewhere.example').waitFor();
    await address.getByText('verified', { exact: true }).waitFor();
    await check();
  });

  test('a wrong password or a refused sign-up shows the error next to its field', async () => {
    await freshPage();
    await signUpByApi('bob@example.com', 'correct horse');
    await logIn('bob@example.com', 'not the password');
    const password = page.getByLabel('Password', { exact: true });
    await page.getByRole('alert').getByText('Wrong email or password').waitFor();
    assert.equal(await password.getAttribute('aria-invalid'), 'true');
    assert.match((await password.getAttribute('aria-describedby')) ?? '', /login-password-error/);
    assert.equal(await page.evaluate('document.activeElement.id'), 'login-password', 'focused');
    assert.equal(await page.getByLabel('Email address').inputValue(), 'bob@example.com');
    await check('login-error');

    await open('/signup');
    await page.getByLabel('Email address').fill('bob@example.com');
    await page.getByLabel('Password').fill('password1');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByText('too common').first().waitFor();
    await check('signup-error');
  });

  test('forgot password: the emailed link opens a form that sets a new password', async () => {
    await freshPage();
    await signUpByApi('carol@example.com', 'old password here');
    await open('/forgot');
    await check('forgot');
    await page.getByLabel('Email address').fill('carol@example.com');
    await page.getByRole('button', { name: 'Send the link' }).click();
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();
    await check('forgot-sent');

    const mail = await mailTo('carol@example.com');
    const link = new RegExp(`${base}/reset_password\\?token=\\S+`).exec(mail.text ?? '')?.[0];
    assert.ok(link, mail.text);
    await page.goto(link);
    await check('reset');
    await page.getByLabel('Email address').fill('carol@example.com');
    await page.getByLabel('New password').fill('short');
    await page.getByRole('button', { name: 'Set new password' }).click();
    await page.getByText('at least 8 characters').first().waitFor();
    await check();
    await page.getByLabel('Email address').fill('carol@example.com');
    await page.getByLabel('New password').fill('brand new password');
    await page.getByRole('button', { name: 'Set new password' }).click();
    await page.waitForURL(`${base}/login?notice=password_reset`);
    await check();

    await logIn('carol@example.com', 'brand new password');
    await page.waitForURL(`${base}/account`);
    // The link worked once.
    await page.goto(link);
    await page.getByLabel('Email address').fill('carol@example.com');
    await page.getByLabel('New password').fill('yet another password');
    await page.getByRole('button', { name: 'Set new password' }).click();
    await page.getByText('This link is invalid').waitFor();
  });

  test('change password: the current one is required, then a new session and an email', async () => {
    await freshPage();
    await signUpByApi('dan@example.com', 'first password');
    await logIn('dan@example.com', 'first password');
    await page.waitForURL(`${base}/account`);
    const before = (await page.context().cookies()).find((cookie) => cookie.name === 'session_id');
    await page.getByLabel('Current password').fill('not my password');
    await page.getByLabel('New password').fill('second password');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('This is not your current password').first().waitFor();
    await check('change-password-error');

    await page.getByLabel('Current password').fill('first password');
    await page.getByLabel('New password').fill('second password');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.waitForURL(`${base}/account?notice=password_changed`);
    await check('password-changed');
    const after = (await page.context().cookies()).find((cookie) => cookie.name === 'session_id');
    assert.ok(after && before && after.value !== before.value, 'a new session');
    const mail = await mailTo('dan@example.com');
    assert.equal(mail.subject, 'Your password was changed');

    await page.getByRole('button', { name: 'Log out' }).click();
    await logIn('dan@example.com', 'first password');
    await page.getByText('Wrong email or password').first().waitFor();
    await logIn('dan@example.com', 'second password');
    await page.waitForURL(`${base}/account`);
  });

  test('your devices: "Log out everywhere else" logs the other browser out', async () => {
    await freshPage();
    await signUpByApi('fay@example.com', 'two devices here');
    // The second device: a browser context of its own (its own cookies), as a phone.
    const phone = await browser.newContext({
      viewport: PHONE,
      userAgent:
        'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
    });
    after(() => phone.close());
    const phonePage = await phone.newPage();
    await phonePage.goto(`${base}/login`);
    await phonePage.getByLabel('Email address').fill('fay@example.com');
    await phonePage.getByLabel('Password', { exact: true }).fill('two devices here');
    await phonePage.getByRole('button', { name: 'Log in', exact: true }).click();
    await phonePage.waitForURL(`${base}/account`);

    await logIn('fay@example.com', 'two devices here');
    await page.waitForURL(`${base}/account`);
    const devices = page.getByRole('region', { name: 'Your devices' });
    await devices.getByText('This device').waitFor();
    await devices.getByText('Safari on iOS', { exact: true }).waitFor();
    const endPhone = page.getByRole('button', { name: /^End session on Safari on iOS/ });
    assert.equal(await endPhone.count(), 1, 'a button named for the other device');
    await check('account-devices');

    await page.getByRole('button', { name: 'Log out everywhere else' }).click();
    await page.waitForURL(`${base}/account?notice=others_ended`);
    await page.getByText('You are logged out everywhere else').waitFor();
    assert.equal(await devices.getByText('Safari on iOS', { exact: true }).count(), 0);
    await check();

    await phonePage.goto(`${base}/account`);
    assert.equal(new URL(phonePage.url()).pathname, '/login', 'the phone is logged out');
    await page.reload();
    assert.equal(new URL(page.url()).pathname, '/account', 'this browser stays logged in');
  });

  test('delete account: the password is required, then the account is gone', async () => {
    await freshPage();
    await signUpByApi('eve@example.com', 'doomed password');
    await logIn('eve@example.com', 'doomed password');
    await page.waitForURL(`${base}/account`);
    await page.getByLabel('Your password', { exact: true }).fill('wrong');
    await page.getByRole('button', { name: 'Delete my account' }).click();
    await page.getByText('This is not your password').first().waitFor();
    await check('delete-error');
    await page.getByLabel('Your password', { exact: true }).fill('doomed password');
    await page.getByRole('button', { name: 'Delete my account' }).click();
    await page.waitForURL(`${base}/?notice=deleted`);
    await page.getByText('Your account was deleted').waitFor();
    await check('deleted');
    assert.deepEqual(await context?.cookies(), []);
    await logIn('eve@example.com', 'doomed password');
    await page.getByText('Wrong email or password').first().waitFor();
  });
  test('two-factor: turn it on, log in with a code, then with a recovery code, turn it off', async () => {
    await freshPage();
    await signUpByApi('gil@example.com', 'second factor here');
    await logIn('gil@example.com', 'second factor here');
    await page.waitForURL(`${base}/account`);
    const section = page.getByRole('region', { name: 'Two-factor authentication' });
    await section.getByText('off', { exact: true }).waitFor();
    await page.getByLabel('Your password, to turn it on').fill('second factor here');
    await page.getByRole('button', { name: 'Turn on two-factor authentication' }).click();

    // The secret as text, read as a person would type it into the app.
    const secret = (await page.locator('#totp-secret').textContent())?.trim() ?? '';
    assert.match(secret, /^[A-Z2-7]{16,}$/);
    assert.equal(await page.locator('.qr svg').count(), 1, 'the QR code, drawn on the server');
    await check('two-factor-setup');
    await page.getByLabel('Code from your app').fill(totpCodeAt(secret, Date.now()));
    await page.getByRole('button', { name: 'Confirm and turn on' }).click();
    await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
    const codes = await page.locator('.recovery-codes code').allTextContents();
    assert.equal(codes.length, 10);
    await check('two-factor-codes');
    await page.getByRole('link', { name: 'I have saved them' }).click();
    await page.waitForURL(`${base}/account`);
    await section.getByText('10 recovery codes left').waitFor();
    await check('account-two-factor');
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(`${base}/?notice=logged_out`);

    // The password, then a code of the app: the next step's, as the confirming one is used.
    await logIn('gil@example.com', 'second factor here');
    await page.waitForURL(`${base}/login/code`);
    const code = page.getByLabel('Code from your authenticator app');
    assert.equal(await code.getAttribute('autocomplete'), 'one-time-code');
    assert.equal(await code.getAttribute('inputmode'), 'numeric');
    await check('login-code');
    await code.fill(totpCodeAt(secret, Date.now() + 30_000));
    await page.getByRole('button', { name: 'Log in', exact: true }).click();
    await page.waitForURL(`${base}/account`);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(`${base}/?notice=logged_out`);

    // The password, then a recovery code, typed in capitals.
    await logIn('gil@example.com', 'second factor here');
    await page.waitForURL(`${base}/login/code`);
    await page.getByRole('link', { name: 'Use a recovery code instead' }).click();
    await page.getByLabel('Recovery code').fill((codes[0] ?? '').toUpperCase());
    await check('login-recovery-code');
    await page.getByRole('button', { name: 'Log in', exact: true }).click();
    await page.waitForURL(`${base}/account`);
    await section.getByText('9 recovery codes left').waitFor();

    // Off, with the password and another recovery code; the password alone then logs in.
    await page.getByLabel('Your password, to turn it off').fill('second factor here');
    await page.getByLabel('Code from your app, or a recovery code').fill(codes[1] ?? '');
    await page.getByRole('button', { name: 'Turn off two-factor authentication' }).click();
    await page.waitForURL(`${base}/account?notice=two_factor_off`);
    await page.getByText('Two-factor authentication is off').first().waitFor();
    await check();
    await page.getByRole('button', { name: 'Log out' }).click();
    await logIn('gil@example.com', 'second factor here');
    await page.waitForURL(`${base}/account`);
  });
});
