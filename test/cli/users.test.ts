/**
 * `bienvenue users …` and `bienvenue events`, run as real processes on one database, in order:
 * each test builds on the accounts the previous ones left. Effects are checked through the Auth
 * service in-process, on the same database.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, test } from 'node:test';
import type { AccountSummary, AuditEventView } from '../../src/auth/admin.js';
import { freshDatabaseUrl } from '../support/databases.js';
import { FakeClock } from '../support/fakes.js';
import { temporaryDirectory } from '../support/files.js';
import { runCli, withAuth } from './run-cli.js';

const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'staple gun orbit lantern';
let env: Record<string, string>;

before(async () => {
  const databaseUrl = await freshDatabaseUrl({ sqliteFile: join(temporaryDirectory(), 'cli.db') });
  // No verification links: the audit trail these tests read is the commands' own.
  env = {
    DATABASE_URL: databaseUrl,
    BCRYPT_ROUNDS: '4',
    RATE_LIMIT: 'on',
    EMAIL_VERIFICATION: 'off',
  };
});

const bienvenue = (args: string[], input?: string) =>
  runCli(args, env, input === undefined ? {} : { input });

test('migrate applies every migration, then reports the database up to date', async () => {
  const first = await bienvenue(['migrate']);
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /^applied 0001_users$/m);
  const second = await bienvenue(['migrate']);
  assert.equal(second.status, 0, second.stderr);
  assert.equal(second.stdout, 'database is up to date\n');
});

test('users add reads the password from stdin, less one trailing newline', async () => {
  const result = await bienvenue(
    ['users', 'add', 'Ada@Example.com', '--password-stdin'],
    `${PASSWORD}\n`,
  );
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /ada@example\.com/);
  assert.equal(result.stderr, '');
  assert.equal(await withAuth(env, (auth) => auth.validLogin('ada@example.com', PASSWORD)), true);
});

test('users add of a registered email is refused with exit 4', async () => {
  const result = await bienvenue(['users', 'add', 'ada@example.com', '--password-stdin'], PASSWORD);
  assert.equal(result.status, 4);
  assert.match(result.stderr, /already has an account/);
});

test('users add without --password-stdin and stdin not a terminal is a usage error', async () => {
  const result = await bienvenue(['users', 'add', 'bob@example.com'], PASSWORD);
  assert.equal(result.status, 2);
  assert.match(result.stderr, /--password-stdin/);
  assert.equal((await bienvenue(['users', 'show', 'bob@example.com'])).status, 3);
});

test('users add with a common password or an invalid email is refused with exit 4', async () => {
  const weak = await bienvenue(['users', 'add', 'bob@example.com', '--password-stdin'], 'password');
  assert.equal(weak.status, 4);
  assert.match(weak.stderr, /too common/);
  const invalid = await bienvenue(['users', 'add', 'not-an-email', '--password-stdin'], PASSWORD);
  assert.equal(invalid.status, 4);
  assert.match(invalid.stderr, /email/i);
});

test('users list prints a table, or JSON account summaries, with --limit and --offset', async () => {
  const added = await bienvenue(['users', 'add', 'bob@example.com', '--password-stdin'], PASSWORD);
  assert.equal(added.status, 0, added.stderr);
  const text = await bienvenue(['users', 'list']);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /^ID\s+EMAIL/);
  assert.match(text.stdout, /ada@example\.com/);
  assert.match(text.stdout, /bob@example\.com/);
  const all = await bienvenue(['users', 'list', '--json']);
  assert.equal(all.status, 0, all.stderr);
  const users = JSON.parse(all.stdout) as AccountSummary[];
  assert.deepEqual(
    users.map((user) => user.email),
    ['ada@example.com', 'bob@example.com'],
  );
  assert.doesNotMatch(all.stdout, /hash|\$2[aby]\$/);
  const page = await bienvenue(['users', 'list', '--json', '--limit', '1', '--offset', '1']);
  assert.deepEqual(
    (JSON.parse(page.stdout) as AccountSummary[]).map((user) => user.email),
    ['bob@example.com'],
  );
  const bad = await bienvenue(['users', 'list', '--limit', 'many']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--limit/);
});

test('users show prints one account; an unknown email exits 3', async () => {
  const shown = await bienvenue(['users', 'show', 'ADA@example.com', '--json']);
  assert.equal(shown.status, 0, shown.stderr);
  const user = JSON.parse(shown.stdout) as AccountSummary;
  assert.equal(user.email, 'ada@example.com');
  assert.equal(typeof user.id, 'number');
  assert.equal(typeof user.createdAt, 'string');
  assert.equal(user.sessionActive, false);
  assert.equal(user.resetPending, false);
  assert.equal(user.failedLogins, 0);
  assert.equal(user.loginBlockedUntil, null);
  const text = await bienvenue(['users', 'show', 'ada@example.com']);
  assert.match(text.stdout, /^email\s+ada@example\.com$/m);
  const unknown = await bienvenue(['users', 'show', 'nobody@example.com']);
  assert.equal(unknown.status, 3);
  assert.match(unknown.stderr, /no account/i);
  assert.equal(unknown.stdout, '');
});

test('users set-password replaces the password: the old one fails, the new one works', async () => {
  const result = await bienvenue(
    ['users', 'set-password', 'ada@example.com', '--password-stdin'],
    `${NEW_PASSWORD}\n`,
  );
  assert.equal(result.status, 0, result.stderr);
  await withAuth(env, async (auth) => {
    assert.equal(await auth.validLogin('ada@example.com', PASSWORD), false);
    assert.equal(await auth.validLogin('ada@example.com', NEW_PASSWORD), true);
  });
  const weak = await bienvenue(
    ['users', 'set-password', 'ada@example.com', '--password-stdin'],
    '123456',
  );
  assert.equal(weak.status, 4);
  const unknown = await bienvenue(
    ['users', 'set-password', 'nobody@example.com', '--password-stdin'],
    NEW_PASSWORD,
  );
  assert.equal(unknown.status, 3);
  const noSource = await bienvenue(['users', 'set-password', 'ada@example.com']);
  assert.equal(noSource.status, 2);
});

test('users revoke-sessions ends every session of the account', async () => {
  const sessionIds = await withAuth(env, async (auth) => {
    const ids: string[] = [];
    for (let i = 0; i < 2; i += 1) {
      const login = await auth.login('ada@example.com', NEW_PASSWORD);
      assert.ok(login.outcome === 'logged_in');
      ids.push(login.sessionId);
    }
    for (const id of ids) assert.ok(await auth.getUserFromSessionId(id));
    return ids;
  });
  const shown = await bienvenue(['users', 'show', 'ada@example.com', '--json']);
  assert.equal((JSON.parse(shown.stdout) as AccountSummary).sessionActive, true);
  const result = await bienvenue(['users', 'revoke-sessions', 'ada@example.com']);
  assert.equal(result.status, 0, result.stderr);
  for (const sessionId of sessionIds)
    assert.equal(await withAuth(env, (auth) => auth.getUserFromSessionId(sessionId)), null);
  assert.equal((await bienvenue(['users', 'revoke-sessions', 'nobody@example.com'])).status, 3);
});

test('users show lists the live sessions; revoke-sessions --id ends that one only', async () => {
  const FIREFOX =
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';
  const logins = await withAuth(env, async (auth) => {
    const first = await auth.login('ada@example.com', NEW_PASSWORD, {
      ip: '203.0.113.9',
      userAgent: FIREFOX,
    });
    const second = await auth.login('ada@example.com', NEW_PASSWORD, { ip: '198.51.100.4' });
    assert.ok(first.outcome === 'logged_in' && second.outcome === 'logged_in');
    return [first.sessionId, second.sessionId];
  });
  const asJson = await bienvenue(['users', 'show', 'ada@example.com', '--json']);
  assert.equal(asJson.status, 0, asJson.stderr);
  const { sessions } = JSON.parse(asJson.stdout) as {
    sessions: { id: string; ip: string | null; userAgent: string | null }[];
  };
  assert.deepEqual(sessions.map((session) => session.ip).sort(), ['198.51.100.4', '203.0.113.9']);
  for (const token of logins) assert.ok(!asJson.stdout.includes(token), 'no token shown');
  const text = await bienvenue(['users', 'show', 'ada@example.com']);
  assert.match(text.stdout, /SESSION\s+CREATED\s+LAST SEEN\s+EXPIRES\s+IP\s+DEVICE/);
  assert.match(text.stdout, /203\.0\.113\.9\s+Firefox on Windows\s+Mozilla/);
  const firefox = sessions.find((session) => session.ip === '203.0.113.9');
  assert.ok(firefox);
  const unknown = await bienvenue(['users', 'revoke-sessions', 'ada@example.com', '--id', 'nope']);
  assert.equal(unknown.status, 3);
  assert.match(unknown.stderr, /no live session with that id/);
  const one = await bienvenue(['users', 'revoke-sessions', 'ada@example.com', '--id', firefox.id]);
  assert.equal(one.status, 0, one.stderr);
  const [ended, kept] = await withAuth(env, async (auth) =>
    Promise.all(logins.map((token) => auth.getUserFromSessionId(token))),
  );
  assert.equal(ended, null, 'that session ended');
  assert.ok(kept, 'the other one stays');
  const again = await bienvenue([
    'users',
    'revoke-sessions',
    'ada@example.com',
    '--id',
    firefox.id,
  ]);
  assert.equal(again.status, 3, 'an ended session is no longer known');
  const events = JSON.parse(
    (await bienvenue(['events', '--type', 'session_ended', '--json'])).stdout,
  ) as AuditEventView[];
  assert.deepEqual(
    events.filter((event) => event.sessionId === firefox.id).map((event) => event.reason),
    ['revoked_by_operator'],
  );
  assert.equal((await bienvenue(['users', 'revoke-sessions', 'ada@example.com'])).status, 0);
  const help = await bienvenue(['users', 'revoke-sessions', '--help']);
  assert.match(help.stdout, /--id ID/);
});

test('users unlock lets a throttled account log in at once', async () => {
  // The clock stands still, so the wait the failures impose cannot run out by itself.
  const clock = new FakeClock(Date.now());
  const throttled = { ...env, LOGIN_THROTTLE_AFTER: '1' };
  await withAuth(
    throttled,
    async (auth) => {
      assert.equal((await auth.login('bob@example.com', 'wrong password')).outcome, 'refused');
      assert.equal((await auth.login('bob@example.com', PASSWORD)).outcome, 'throttled');
    },
    { clock },
  );
  const shown = await bienvenue(['users', 'show', 'bob@example.com', '--json']);
  assert.equal((JSON.parse(shown.stdout) as AccountSummary).failedLogins, 1);
  const result = await bienvenue(['users', 'unlock', 'bob@example.com']);
  assert.equal(result.status, 0, result.stderr);
  const login = await withAuth(throttled, (auth) => auth.login('bob@example.com', PASSWORD), {
    clock,
  });
  assert.equal(login.outcome, 'logged_in');
  assert.equal((await bienvenue(['users', 'unlock', 'nobody@example.com'])).status, 3);
});

test("events lists the audit trail newest first, with the CLI's own actions", async () => {
  const all = await bienvenue(['events', '--json']);
  assert.equal(all.status, 0, all.stderr);
  const events = JSON.parse(all.stdout) as AuditEventView[];
  const ids = events.map((event) => event.id);
  assert.deepEqual(
    ids,
    [...ids].sort((a, b) => b - a),
  );
  const ada = JSON.parse(
    (await bienvenue(['events', '--user', 'ada@example.com', '--json'])).stdout,
  ) as AuditEventView[];
  assert.ok(ada.length > 0);
  assert.ok(ada.every((event) => event.email === 'ada@example.com'));
  for (const type of ['user_registered', 'password_changed', 'sessions_revoked']) {
    const event = ada.find((candidate) => candidate.type === type);
    assert.ok(event, `no ${type} event`);
    assert.equal(event.userAgent, 'bienvenue-cli');
    assert.equal(event.ip, null);
  }
  const unlocked = JSON.parse(
    (await bienvenue(['events', '--type', 'account_unlocked', '--json'])).stdout,
  ) as AuditEventView[];
  assert.deepEqual(
    unlocked.map((event) => [event.type, event.email, event.userAgent]),
    [['account_unlocked', 'bob@example.com', 'bienvenue-cli']],
  );
  const limited = JSON.parse(
    (await bienvenue(['events', '--limit', '1', '--json'])).stdout,
  ) as unknown[];
  assert.equal(limited.length, 1);
  const text = await bienvenue(['events', '--user', 'bob@example.com']);
  assert.match(text.stdout, /account_unlocked\s+bob@example\.com\s+-\s+-\s+-\s+-\s+bienvenue-cli/);
  assert.match(text.stdout, /login_succeeded\s+bob@example\.com\s+-\s+-\s+-\s+password\s+-/);
  const badType = await bienvenue(['events', '--type', 'coffee_break']);
  assert.equal(badType.status, 2);
  assert.match(badType.stderr, /user_registered/);
  assert.equal((await bienvenue(['events', '--user', 'nobody@example.com'])).status, 3);
});

test('users delete removes the account, then show exits 3; the deletion is audited', async () => {
  const result = await bienvenue(['users', 'delete', 'bob@example.com']);
  assert.equal(result.status, 0, result.stderr);
  assert.equal((await bienvenue(['users', 'show', 'bob@example.com'])).status, 3);
  assert.equal((await bienvenue(['users', 'delete', 'bob@example.com'])).status, 3);
  const deleted = JSON.parse(
    (await bienvenue(['events', '--type', 'account_deleted', '--json'])).stdout,
  ) as AuditEventView[];
  assert.deepEqual(
    deleted.map((event) => [event.email, event.userAgent]),
    [['bob@example.com', 'bienvenue-cli']],
  );
});

test('no command prints a control character that came from a user agent, as text or JSON', async () => {
  // CSI (C1), ESC (C0), a right-to-left override and a newline, as a hostile client might send.
  const userAgent = 'curl\u009b31m\u001b[2J\u202eevil\nforged row';
  await withAuth(env, async (auth) => {
    await auth.registerUser('mallory@example.com', PASSWORD, { userAgent, ip: '192.0.2.7' });
    const login = await auth.login('mallory@example.com', PASSWORD, { userAgent });
    assert.equal(login.outcome, 'logged_in');
  });
  // eslint-disable-next-line no-control-regex
  const rawControls = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
  const outputs = [];
  for (const args of [
    ['events'],
    ['events', '--user', 'mallory@example.com'],
    ['events', '--json'],
    ['users', 'list'],
    ['users', 'list', '--json'],
    ['users', 'show', 'mallory@example.com'],
    ['users', 'show', 'mallory@example.com', '--json'],
  ]) {
    outputs.push(await bienvenue(args));
  }
  for (const result of outputs) {
    assert.equal(result.status, 0, result.stderr);
    assert.doesNotMatch(result.stdout, rawControls);
    assert.doesNotMatch(result.stderr, rawControls);
  }
  const [text, ofMallory, asJson] = outputs;
  // Shown escaped, on one line: the newline forges no row.
  assert.ok(text?.stdout.includes('curl\\u009b31m\\u001b[2J\\u202eevil\\u000aforged row'));
  assert.doesNotMatch(ofMallory?.stdout ?? '', /^forged row/m);
  // The JSON is the same string, escaped: parsed, it is what the client sent.
  const events = JSON.parse(asJson?.stdout ?? '') as AuditEventView[];
  const malloryEvents = events.filter((event) => event.email === 'mallory@example.com');
  assert.deepEqual(
    malloryEvents.map((event) => event.type),
    ['login_succeeded', 'session_started', 'user_registered'],
  );
  assert.ok(malloryEvents.every((event) => event.userAgent === userAgent));
});
