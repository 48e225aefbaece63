/**
 * `bienvenue backup FILE`, run as a real process beside a real server process that keeps writing:
 * the copy is one consistent moment of the database (so it holds every account acknowledged
 * before the command started, even those still only in the `-wal` file), a single file that
 * passes SQLite's integrity check, and a database the service can be restored from. Refusals:
 * PostgreSQL (pointed to pg_dump), an in-memory database, an existing FILE, a missing database.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import SQLite from 'better-sqlite3';
import { TEST_ENGINE } from '../support/databases.js';
import { temporaryDirectory } from '../support/files.js';
import { formBody, startIsolatedServer } from '../support/process.js';
import { runCli } from './run-cli.js';

const SQLITE_ONLY = { skip: TEST_ENGINE === 'sqlite' ? false : 'a SQLite feature: run on SQLite' };
const ENV = { BCRYPT_ROUNDS: '4', RATE_LIMIT: 'off' };
const PASSWORD = 'backup pass';

test(
  'a backup taken while sign-ups go on holds one moment of the database, and serves logins once restored',
  SQLITE_ONLY,
  async () => {
    const directory = temporaryDirectory();
    const databaseUrl = `sqlite:${join(directory, 'bienvenue.db')}`;
    const server = await startIsolatedServer(ENV, { directory, databaseUrl });
    const signUp = async (email: string) => {
      const response = await fetch(`${server.url}/users`, {
        method: 'POST',
        body: formBody({ email, password: PASSWORD }),
      });
      return response.status;
    };
    const before: string[] = [];
    for (let i = 0; i < 40; i += 1) {
      const email = `before${i}@example.com`;
      assert.equal(await signUp(email), 200);
      before.push(email);
    }
    // These commits are still in the -wal file (far below the checkpoint threshold): a copy of the
    // database file alone would not hold them.
    assert.ok(existsSync(join(directory, 'bienvenue.db-wal')));

    // Sign-ups go on, one after the other, for as long as the command runs.
    const sent: string[] = [];
    const acknowledged: string[] = [];
    const state = { writing: true };
    const writer = (async () => {
      for (let i = 0; state.writing; i += 1) {
        const email = `during${i}@example.com`;
        sent.push(email);
        if ((await signUp(email)) === 200) acknowledged.push(email);
      }
    })();
    const file = join(directory, 'backup.db');
    const acknowledgedAtStart = acknowledged.length;
    const result = await runCli(['backup', file], { DATABASE_URL: databaseUrl });
    const acknowledgedAtEnd = acknowledged.length;
    state.writing = false;
    await writer;
    assert.equal(result.status, 0, result.stderr);
    assert.ok(acknowledgedAtEnd > acknowledgedAtStart, 'sign-ups were acknowledged meanwhile');

    // One self-contained file, in rollback mode, that passes the full integrity check, and that
    // only its owner can read: it holds every password hash.
    assert.ok(!existsSync(`${file}-wal`));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const copy = new SQLite(file, { readonly: true, fileMustExist: true });
    let emails: string[];
    try {
      assert.equal(copy.pragma('integrity_check', { simple: true }), 'ok');
      assert.equal(copy.pragma('journal_mode', { simple: true }), 'delete');
      emails = (
        copy.prepare('SELECT email FROM users ORDER BY id').all() as { email: string }[]
      ).map((row) => row.email);
    } finally {
      copy.close();
    }
    assert.match(result.stdout, new RegExp(`${emails.length} accounts\\.\\n$`));
    for (const email of before) assert.ok(emails.includes(email), `${email} is in the backup`);
    // One moment: the sign-ups made during the backup that it holds are the first ones, in order,
    // and none it holds was never sent.
    const during = emails.filter((email) => !before.includes(email));
    assert.deepEqual(during, sent.slice(0, during.length));
    assert.ok(during.length <= acknowledgedAtEnd);

    // Restored as the README says (the copy put where DATABASE_URL points), it serves logins.
    const restoredDirectory = temporaryDirectory();
    copyFileSync(file, join(restoredDirectory, 'bienvenue.db'));
    const restored = await startIsolatedServer(ENV, {
      directory: restoredDirectory,
      databaseUrl: `sqlite:${join(restoredDirectory, 'bienvenue.db')}`,
    });
    const login = await fetch(`${restored.url}/sessions`, {
      method: 'POST',
      body: formBody({ email: before[7] ?? '', password: PASSWORD }),
    });
    assert.equal(login.status, 200);
  },
);

test('a backup of a PostgreSQL database is refused with exit 2, pointing to pg_dump', async () => {
  const file = join(temporaryDirectory(), 'backup.db');
  const result = await runCli(['backup', file], {
    DATABASE_URL: 'postgres://bienvenue:secret@127.0.0.1:1/bienvenue',
  });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /PostgreSQL/);
  assert.match(result.stderr, /pg_dump/);
  assert.doesNotMatch(result.stderr, /secret/);
  assert.ok(!existsSync(file));
});

test('a backup of an in-memory database is refused with exit 2', async () => {
  const file = join(temporaryDirectory(), 'backup.db');
  const result = await runCli(['backup', file], { DATABASE_URL: 'sqlite::memory:' });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /nothing to back up/);
  assert.ok(!existsSync(file));
});

test('a backup never overwrites a file, nor creates a missing database', SQLITE_ONLY, async () => {
  const directory = temporaryDirectory();
  const databaseUrl = `sqlite:${join(directory, 'bienvenue.db')}`;
  // Any command that opens the service migrates the database and makes its key file.
  const opened = await runCli(['users', 'list'], { DATABASE_URL: databaseUrl });
  assert.equal(opened.status, 0, opened.stderr);

  const existing = join(directory, 'earlier-backup.db');
  writeFileSync(existing, 'an earlier backup');
  const refused = await runCli(['backup', existing], { DATABASE_URL: databaseUrl });
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /exists already/);
  assert.equal(readFileSync(existing, 'utf8'), 'an earlier backup');

  const missing = join(directory, 'typo.db');
  const noDatabase = await runCli(['backup', join(directory, 'copy.db')], {
    DATABASE_URL: `sqlite:${missing}`,
  });
  assert.equal(noDatabase.status, 2);
  assert.match(noDatabase.stderr, /There is no database at/);
  assert.ok(!existsSync(missing));
  assert.ok(!existsSync(join(directory, 'copy.db')));

  const noFolder = await runCli(['backup', join(directory, 'no', 'such', 'copy.db')], {
    DATABASE_URL: databaseUrl,
  });
  assert.equal(noFolder.status, 2);
  assert.match(noFolder.stderr, /no folder/);

  // And the refusals left nothing behind but the two files of this test.
  const made = await runCli(['backup', join(directory, 'copy.db')], { DATABASE_URL: databaseUrl });
  assert.equal(made.status, 0, made.stderr);
  assert.match(made.stdout, /0 accounts\.\n$/);
  assert.match(made.stderr, /secret key file .*bienvenue\.db\.key is not in the backup/);
});
