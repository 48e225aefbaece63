/**
 * `bienvenue users invite`, run as a real process on one database with sign-up closed, its email
 * caught by an SMTP server in this test process. Effects are checked through the Auth service
 * in-process, on the same database, with a clock set where the test needs it.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ParsedMail } from 'mailparser';
import type { AuditEventView } from '../../src/auth/admin.js';
import { InvalidResetTokenError } from '../../src/auth/errors.js';
import { freshDatabaseUrl } from '../support/databases.js';
import { FakeClock } from '../support/fakes.js';
import { temporaryDirectory } from '../support/files.js';
import { startSmtpServer, type TestSmtpServer } from '../support/smtp.js';
import { runCli, withAuth } from './run-cli.js';

const PASSWORD = 'correct horse battery';
/** Three hours: longer than RESET_TOKEN_TTL's half hour. */
const INVITE_TTL = 3 * 3600;
let env: Record<string, string>;
let smtp: TestSmtpServer;

before(async () => {
  smtp = await startSmtpServer();
  const databaseUrl = await freshDatabaseUrl({
    sqliteFile: join(temporaryDirectory(), 'invite.db'),
  });
  env = {
    DATABASE_URL: databaseUrl,
    BCRYPT_ROUNDS: '4',
    SIGNUP: 'closed',
    SIGNUP_EMAIL_DOMAINS: 'example.org',
    INVITE_TTL: String(INVITE_TTL),
    RESET_TOKEN_TTL: '1800',
    PUBLIC_URL: 'https://id.example.org',
    SMTP_URL: smtp.url,
    MAIL_FROM: 'Accounts <accounts@example.org>',
  };
});
after(() => smtp.close());

const bienvenue = (args: string[], extra: Record<string, string> = {}) =>
  runCli(args, { ...env, ...extra });

function linkToken(mail: ParsedMail): string {
  const link = /https:\/\/id\.example\.org\/reset_password\?token=([0-9a-f-]{36})/.exec(
    mail.text ?? '',
  );
  assert.ok(link, mail.text);
  return link[1] ?? '';
}

/** An Auth service on the test database whose clock reads `secondsFromNow` ahead. */
const later = <T>(secondsFromNow: number, action: Parameters<typeof withAuth<T>>[1]) =>
  withAuth(env, action, { clock: new FakeClock(Date.now() + secondsFromNow * 1000) });

test('users invite creates a passwordless account with sign-up closed and emails an invitation', async () => {
  const result = await bienvenue(['users', 'invite', 'Ivy@Example.com']);
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /^Invited ivy@example\.com \(id \d+\)/);
  const mail = await smtp.nextMessage();
  assert.match(mail.subject ?? '', /invited/i);
  assert.match(mail.text ?? '', /within 3 hours/);
  const to = Array.isArray(mail.to) ? mail.to[0] : mail.to;
  assert.equal(to?.value[0]?.address, 'ivy@example.com');
  const token = linkToken(mail);
  // No password yet: refused, and once set through the link (past a reset link's life, within
  // the invitation's), it is the account's.
  assert.equal(await withAuth(env, (auth) => auth.validLogin('ivy@example.com', PASSWORD)), false);
  await later(INVITE_TTL - 120, (auth) =>
    auth.updatePassword(token, PASSWORD, { email: 'ivy@example.com' }),
  );
  assert.equal(await withAuth(env, (auth) => auth.validLogin('ivy@example.com', PASSWORD)), true);
});

test('an invitation’s link no longer works once INVITE_TTL has passed', async () => {
  const result = await bienvenue(['users', 'invite', 'late@example.com']);
  assert.equal(result.status, 0, result.stderr);
  const token = linkToken(await smtp.nextMessage());
  await assert.rejects(
    later(INVITE_TTL + 1, (auth) =>
      auth.updatePassword(token, PASSWORD, { email: 'late@example.com' }),
    ),
    InvalidResetTokenError,
  );
  assert.equal(await withAuth(env, (auth) => auth.validLogin('late@example.com', PASSWORD)), false);
});

test('users invite of an address with an account exits 4 and sends nothing', async () => {
  const sent = smtp.messages.length;
  for (const email of ['ivy@example.com', 'IVY@example.com']) {
    const result = await bienvenue(['users', 'invite', email]);
    assert.equal(result.status, 4, email);
    assert.match(result.stderr, /ivy@example\.com already has an account/);
    assert.equal(result.stdout, '');
  }
  assert.equal(smtp.messages.length, sent);
  assert.equal(await withAuth(env, (auth) => auth.validLogin('ivy@example.com', PASSWORD)), true);
});

test('users invite with an invalid address exits 4; when the email cannot be sent, exit 1 and no account', async () => {
  const invalid = await bienvenue(['users', 'invite', 'not-an-email']);
  assert.equal(invalid.status, 4);
  assert.match(invalid.stderr, /email/i);
  const unsent = await bienvenue(['users', 'invite', 'gone@example.com'], {
    SMTP_URL: 'smtp://127.0.0.1:1',
  });
  assert.equal(unsent.status, 1);
  assert.match(
    unsent.stderr,
    /Failed: The invitation email to gone@example\.com could not be sent, so no account was kept\n {2}cause: connect ECONNREFUSED/,
  );
  assert.equal((await bienvenue(['users', 'show', 'gone@example.com'])).status, 3);
});

test('users add works with sign-up closed, for any domain', async () => {
  const result = await runCli(['users', 'add', 'bob@example.com', '--password-stdin'], env, {
    input: PASSWORD,
  });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(await withAuth(env, (auth) => auth.validLogin('bob@example.com', PASSWORD)), true);
});

test('invitations are audited as account_invited, by bienvenue-cli', async () => {
  const events = JSON.parse(
    (await bienvenue(['events', '--type', 'account_invited', '--json'])).stdout,
  ) as AuditEventView[];
  assert.deepEqual(
    events.map((event) => [event.email, event.userAgent]),
    [
      ['late@example.com', 'bienvenue-cli'],
      ['ivy@example.com', 'bienvenue-cli'],
    ],
  );
});

test('the help documents users invite and the account_invited event type', async () => {
  const group = await runCli(['users', '--help'], {});
  assert.equal(group.status, 0);
  assert.match(group.stdout, /bienvenue users invite EMAIL\s+create an account without a password/);
  const command = await runCli(['users', 'invite', '--help'], {});
  assert.equal(command.status, 0);
  assert.match(command.stdout, /INVITE_TTL/);
  assert.match(command.stdout, /sign-up closed/);
  assert.match(command.stdout, /Exit codes:/);
  const events = await runCli(['events', '--help'], {});
  assert.match(events.stdout, /account_invited/);
});
