/**
 * `bienvenue users verify` and what `users show` says of an address, run as real processes on one
 * database: accounts the operator adds are verified, signed-up ones are not until verified, and
 * the verification is audited.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, test } from 'node:test';
import type { AccountSummary, AuditEventView } from '../../src/auth/admin.js';
import { freshDatabaseUrl } from '../support/databases.js';
import { temporaryDirectory } from '../support/files.js';
import { runCli, withAuth } from './run-cli.js';

const PASSWORD = 'correct horse battery';
let env: Record<string, string>;

before(async () => {
  const databaseUrl = await freshDatabaseUrl({
    sqliteFile: join(temporaryDirectory(), 'verify.db'),
  });
  env = { DATABASE_URL: databaseUrl, BCRYPT_ROUNDS: '4', EMAIL_VERIFICATION: 'required' };
});

const bienvenue = (args: string[], input?: string) =>
  runCli(args, env, input === undefined ? {} : { input });

async function shown(email: string): Promise<AccountSummary> {
  const result = await bienvenue(['users', 'show', email, '--json']);
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout) as AccountSummary;
}

test('an account made with users add is verified, and users show says so', async () => {
  const added = await bienvenue(['users', 'add', 'ada@example.com', '--password-stdin'], PASSWORD);
  assert.equal(added.status, 0, added.stderr);
  assert.equal((await shown('ada@example.com')).emailVerified, true);
  const text = await bienvenue(['users', 'show', 'ada@example.com']);
  assert.match(text.stdout, /^email verified\s+yes$/m);
});

test('users verify marks a signed-up account verified, once; it can then log in', async () => {
  await withAuth(env, (auth) => auth.registerUser('bob@example.com', PASSWORD));
  assert.equal((await shown('bob@example.com')).emailVerified, false);
  const refused = await withAuth(env, (auth) => auth.login('bob@example.com', PASSWORD));
  assert.equal(refused.outcome, 'email_not_verified');

  const verified = await bienvenue(['users', 'verify', 'BOB@example.com']);
  assert.equal(verified.status, 0, verified.stderr);
  assert.match(verified.stdout, /^Verified /);
  assert.equal((await shown('bob@example.com')).emailVerified, true);
  const text = await bienvenue(['users', 'show', 'bob@example.com']);
  assert.match(text.stdout, /^email verified\s+yes$/m);
  const login = await withAuth(env, (auth) => auth.login('bob@example.com', PASSWORD));
  assert.equal(login.outcome, 'logged_in');

  const again = await bienvenue(['users', 'verify', 'bob@example.com']);
  assert.equal(again.status, 0);
  assert.match(again.stdout, /verified already/);
  const events = await bienvenue(['events', '--user', 'bob@example.com', '--json']);
  const types = (JSON.parse(events.stdout) as AuditEventView[]).map((event) => event.type);
  assert.equal(types.filter((type) => type === 'email_verified').length, 1);
});

test('users verify of an unknown address exits 3', async () => {
  const unknown = await bienvenue(['users', 'verify', 'nobody@example.com']);
  assert.equal(unknown.status, 3);
  assert.match(unknown.stderr, /no account/i);
});
