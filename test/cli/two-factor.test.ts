/**
 * `bienvenue users show` and `bienvenue users reset-2fa` for an account with two-factor
 * authentication, run as real processes on the engine under test, with the same key as the
 * in-process service that enrolled it (and began a login waiting for its code).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import type { AuditEventView } from '../../src/auth/admin.js';
import { freshDatabaseUrl } from '../support/databases.js';
import { FakeClock } from '../support/fakes.js';
import { temporaryDirectory } from '../support/files.js';
import { totpCodeAt } from '../support/totp.js';
import { runCli, withAuth } from './run-cli.js';

const PASSWORD = 'correct horse battery';
const EMAIL = 'tara@example.com';
// Set up once for the file, outside any hook: the database's folder lasts until the file ends.
const databaseUrl = await freshDatabaseUrl({ sqliteFile: join(temporaryDirectory(), 'cli.db') });
const env = {
  DATABASE_URL: databaseUrl,
  BCRYPT_ROUNDS: '4',
  SECRET_KEY: randomBytes(32).toString('base64'),
};
assert.equal((await runCli(['migrate'], env)).status, 0);
const clock = new FakeClock(Date.now());
/** The session opened before the reset, a login waiting for its code, and the app's secret. */
const { token, challenge, secret } = await withAuth(
  env,
  async (auth) => {
    await auth.registerUser(EMAIL, PASSWORD);
    await auth.registerUser('other@example.com', PASSWORD);
    const login = await auth.login(EMAIL, PASSWORD);
    assert.equal(login.outcome, 'logged_in');
    const pending = await auth.twoFactor.beginEnrolment(login.sessionId, PASSWORD);
    assert.ok(typeof pending !== 'string');
    const code = totpCodeAt(pending.secret, clock.now());
    const confirmed = await auth.twoFactor.confirmEnrolment(login.sessionId, code);
    assert.ok(typeof confirmed !== 'string');
    // One recovery code used: nine are left.
    const used = await auth.twoFactor.verifySecondStep(
      login.account.id,
      confirmed.recoveryCodes[0] ?? '',
    );
    assert.equal(used, 'recovery_code');
    const waiting = await auth.login(EMAIL, PASSWORD);
    assert.equal(waiting.outcome, 'second_factor_required');
    return { token: login.sessionId, challenge: waiting.challengeToken, secret: pending.secret };
  },
  { clock },
);

const bienvenue = (args: string[]) => runCli(args, env);

test('users show says the factor is on and how many recovery codes are left', async () => {
  const text = await bienvenue(['users', 'show', EMAIL]);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /^two-factor\s+on$/m);
  assert.match(text.stdout, /^recovery codes left\s+9$/m);
  const json = await bienvenue(['users', 'show', EMAIL, '--json']);
  assert.equal(json.status, 0, json.stderr);
  const shown = JSON.parse(json.stdout) as { twoFactor: unknown };
  assert.deepEqual(shown.twoFactor, { enabled: true, recoveryCodesLeft: 9 });
  const other = await bienvenue(['users', 'show', 'other@example.com']);
  assert.match(other.stdout, /^two-factor\s+off$/m);
  assert.match(other.stdout, /^recovery codes left\s+-$/m);
});

test('users reset-2fa turns the factor off, ends every session and pending login, and is audited', async () => {
  const result = await bienvenue(['users', 'reset-2fa', EMAIL]);
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /Two-factor authentication of tara@example\.com reset/);
  const state = await withAuth(
    env,
    async (auth) => {
      // Taken before the reset, answered after it with a code of a step not used yet.
      const pending = await auth.completeSecondFactor(
        challenge,
        totpCodeAt(secret, clock.now() + 30_000),
      );
      const account = await auth.login(EMAIL, PASSWORD);
      assert.equal(account.outcome, 'logged_in', 'the password alone logs in');
      return {
        pending: pending.outcome,
        session: await auth.getUserFromSessionId(token),
        status: await auth.twoFactor.status(account.account.id),
      };
    },
    { clock },
  );
  assert.equal(state.pending, 'expired', 'the login waiting for its code ended');
  assert.equal(state.session, null, 'the session opened before ended');
  assert.deepEqual(state.status, { enabled: false, recoveryCodesLeft: 0 });
  const events = await bienvenue(['events', '--user', EMAIL, '--json']);
  assert.equal(events.status, 0, events.stderr);
  const disabled = (JSON.parse(events.stdout) as AuditEventView[]).filter(
    (event) => event.type === 'totp_disabled',
  );
  assert.equal(disabled.length, 1);
  assert.equal(disabled[0]?.userAgent, 'bienvenue-cli');
  const shown = await bienvenue(['users', 'show', EMAIL]);
  assert.match(shown.stdout, /^two-factor\s+off$/m);
  // Each login says how its session was made.
  const logins = await bienvenue(['events', '--user', EMAIL, '--type', 'login_succeeded']);
  assert.equal(logins.status, 0, logins.stderr);
  assert.match(logins.stdout, /\bREASON\s+AUTH\s+USER AGENT\b/);
  assert.equal(logins.stdout.match(/ password /g)?.length, 2, logins.stdout);
});

test('users reset-2fa leaves an account without the factor as it is, and knows no stranger', async () => {
  const none = await bienvenue(['users', 'reset-2fa', 'other@example.com']);
  assert.equal(none.status, 0, none.stderr);
  assert.match(none.stdout, /has no two-factor authentication: nothing changed/);
  const unknown = await bienvenue(['users', 'reset-2fa', 'nobody@example.com']);
  assert.equal(unknown.status, 3);
  const help = await bienvenue(['users', 'reset-2fa', '--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /Usage: bienvenue users reset-2fa EMAIL/);
});
