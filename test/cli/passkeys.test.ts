/**
 * `bienvenue users show` lists an account's passkeys and `bienvenue users remove-passkeys`
 * removes them, run as real processes on the engine under test, over a database where an
 * in-process service added a passkey (with the software authenticator).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { SoftAuthenticator } from '../support/authenticator.js';
import { freshDatabaseUrl } from '../support/databases.js';
import { temporaryDirectory } from '../support/files.js';
import { runCli, withAuth } from './run-cli.js';

const PASSWORD = 'correct horse battery';
const EMAIL = 'pia@example.com';
const databaseUrl = await freshDatabaseUrl({ sqliteFile: join(temporaryDirectory(), 'cli.db') });
const env = { DATABASE_URL: databaseUrl, BCRYPT_ROUNDS: '4' };
assert.equal((await runCli(['migrate'], env)).status, 0);

/** The passkey's authenticator, once it holds one. */
const authenticator = await withAuth(env, async (auth) => {
  // Added by the operator, so its address counts as proven, which adding a passkey needs.
  await auth.addUser(EMAIL, PASSWORD);
  await auth.registerUser('other@example.com', PASSWORD);
  const login = await auth.login(EMAIL, PASSWORD);
  assert.equal(login.outcome, 'logged_in');
  const options = await auth.passkeys.registrationOptions(login.sessionId, undefined);
  assert.ok(typeof options !== 'string');
  const held = new SoftAuthenticator(auth.passkeys.relyingParty.origin);
  const added = await auth.passkeys.register(login.sessionId, {
    name: 'Work laptop',
    response: held.create(options),
  });
  assert.ok(typeof added !== 'string', 'the passkey is added');
  return held;
});

const bienvenue = (args: string[]) => runCli(args, env);

test('users show lists the account’s passkeys', async () => {
  const text = await bienvenue(['users', 'show', EMAIL]);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /^PASSKEY\s+NAME\s+CREATED\s+LAST USED\s+SYNCED\s+AAGUID$/m);
  assert.match(text.stdout, /Work laptop/);
  const json = await bienvenue(['users', 'show', EMAIL, '--json']);
  const shown = JSON.parse(json.stdout) as { passkeys: { name: string }[] };
  assert.deepEqual(
    shown.passkeys.map((passkey) => passkey.name),
    ['Work laptop'],
  );
  const other = await bienvenue(['users', 'show', 'other@example.com']);
  assert.match(other.stdout, /^No passkeys\.$/m);
});

test('users remove-passkeys removes them all, audited; the passkey logs in no more', async () => {
  const result = await bienvenue(['users', 'remove-passkeys', EMAIL]);
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /Passkeys of pia@example\.com removed \(1\)/);
  const again = await bienvenue(['users', 'remove-passkeys', EMAIL]);
  assert.equal(again.status, 0);
  assert.match(again.stdout, /has no passkeys: nothing changed/);
  const state = await withAuth(env, async (auth) => {
    const options = await auth.passkeys.loginOptions();
    const login = await auth.passkeys.logIn(authenticator.get(options));
    return { login: login.outcome, events: (await bienvenue(['events', '--json'])).stdout };
  });
  assert.equal(state.login, 'rejected');
  assert.match(state.events, /passkey_removed/);
  const unknown = await bienvenue(['users', 'remove-passkeys', 'nobody@example.com']);
  assert.notEqual(unknown.status, 0);
});
