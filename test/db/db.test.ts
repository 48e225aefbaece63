import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { sql } from 'kysely';
import { openDatabase, type Database } from '../../src/db/connection.js';
import { DB } from '../../src/db/db.js';
import {
  InvalidAttributeError,
  InvalidRequestError,
  NoResultFoundError,
  UniqueViolationError,
} from '../../src/db/errors.js';
import { migrateToLatest, migrations } from '../../src/db/migrations.js';
import { migrateUpTo } from '../support/migrations.js';
import type { UserFilters } from '../../src/db/db.js';
import { FakeClock } from '../support/fakes.js';
import {
  freshDatabaseUrl,
  freshPostgresUrl,
  indexesOf,
  TEST_ENGINE,
} from '../support/databases.js';
import { temporaryDirectory } from '../support/files.js';

const HASH = '$2b$04$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234';
const OTHER_HASH = '$2b$04$zyxwvutsrqponmlkjihgfeZYXWVUTSRQPONMLKJIHGFEDCBA98765';

/** Removed when this test file ends. */
const directory = temporaryDirectory();
let fileCounter = 0;
/** A fresh `sqlite:` URL for a file in this test file's temporary folder. */
function fileUrl(name = `db-${String(++fileCounter)}.sqlite`): string {
  return `sqlite:${join(directory, name)}`;
}

/** A fresh database that several connections can open: a SQLite file or a PostgreSQL schema. */
async function sharedUrl(): Promise<string> {
  return TEST_ENGINE === 'postgres' ? freshPostgresUrl() : fileUrl();
}

async function openMigrated(url: string): Promise<Database> {
  const database = openDatabase(url);
  await migrateToLatest(database);
  return database;
}

const backends: [string, () => Promise<string>][] =
  TEST_ENGINE === 'postgres'
    ? [['PostgreSQL', freshPostgresUrl]]
    : [
        ['SQLite in memory', () => Promise.resolve('sqlite::memory:')],
        ['SQLite in a file', () => Promise.resolve(fileUrl())],
      ];

for (const [backend, url] of backends) {
  describe(`DB over ${backend}`, () => {
    let database: Database;
    let clock: FakeClock;
    let db: DB;

    beforeEach(async () => {
      database = await openMigrated(await url());
      clock = new FakeClock();
      db = new DB(database, clock);
    });
    afterEach(async () => {
      await database.kysely.destroy();
    });

    /** Sets reset-token columns directly, as the Auth service would through updateUser. */
    async function giveResetToken(userId: number, digest: string, expiresAt: number) {
      await db.updateUser(userId, { reset_token: digest, reset_token_expires_at: expiresAt });
    }

    describe('addUser', () => {
      it('returns the stored row with a new id and the clock times', async () => {
        const user = await db.addUser('bob@example.com', HASH);
        assert.equal(typeof user.id, 'number');
        assert.ok(user.id > 0);
        const now = clock.now();
        assert.deepEqual(user, {
          id: user.id,
          email: 'bob@example.com',
          hashed_password: HASH,
          reset_token: null,
          reset_token_expires_at: null,
          created_at: now,
          updated_at: now,
          email_key: 'bob@example.com',
          email_verified_at: null,
          reset_token_emailed: 0,
        });
      });

      it('gives each user its own id', async () => {
        const first = await db.addUser('a@example.com', HASH);
        const second = await db.addUser('b@example.com', HASH);
        assert.notEqual(first.id, second.id);
        assert.equal((await db.findUserBy({ id: second.id })).email, 'b@example.com');
      });

      it('throws UniqueViolationError for an email already taken, keeping the first user', async () => {
        const first = await db.addUser('bob@example.com', HASH);
        await assert.rejects(db.addUser('bob@example.com', OTHER_HASH), UniqueViolationError);
        const stored = await database.kysely.selectFrom('users').selectAll().execute();
        assert.deepEqual(
          stored.map(({ id, hashed_password }) => ({ id, hashed_password })),
          [{ id: first.id, hashed_password: HASH }],
        );
      });

      it('keeps the underlying driver error as the cause of a UniqueViolationError', async () => {
        await db.addUser('bob@example.com', HASH);
        const error = await db.addUser('bob@example.com', HASH).then(
          () => assert.fail('expected a UniqueViolationError'),
          (caught: unknown) => caught,
        );
        assert.ok(error instanceof UniqueViolationError);
        assert.equal(
          (error.cause as { code?: unknown }).code,
          TEST_ENGINE === 'postgres' ? '23505' : 'SQLITE_CONSTRAINT_UNIQUE',
        );
      });
    });

    describe('findUserBy', () => {
      it('finds a user by email', async () => {
        const bob = await db.addUser('bob@example.com', HASH);
        await db.addUser('alice@example.com', OTHER_HASH);
        assert.deepEqual(await db.findUserBy({ email: 'bob@example.com' }), bob);
      });

      it('finds a user by id', async () => {
        await db.addUser('alice@example.com', OTHER_HASH);
        const bob = await db.addUser('bob@example.com', HASH);
        assert.deepEqual(await db.findUserBy({ id: bob.id }), bob);
      });

      it('requires every filter to match', async () => {
        const bob = await db.addUser('bob@example.com', HASH);
        const alice = await db.addUser('alice@example.com', HASH);
        assert.equal(
          (await db.findUserBy({ email: 'alice@example.com', hashed_password: HASH })).id,
          alice.id,
        );
        assert.equal((await db.findUserBy({ id: bob.id, email: 'bob@example.com' })).id, bob.id);
        await assert.rejects(
          db.findUserBy({ id: bob.id, email: 'alice@example.com' }),
          NoResultFoundError,
        );
      });

      it('finds a user by reset token digest', async () => {
        const bob = await db.addUser('bob@example.com', HASH);
        await db.addUser('alice@example.com', HASH);
        await db.updateUser(bob.id, { reset_token: 'digest-1' });
        assert.equal((await db.findUserBy({ reset_token: 'digest-1' })).id, bob.id);
      });

      it('throws NoResultFoundError when nothing matches', async () => {
        await db.addUser('bob@example.com', HASH);
        await assert.rejects(db.findUserBy({ email: 'nobody@example.com' }), NoResultFoundError);
        await assert.rejects(db.findUserBy({ id: 9999 }), NoResultFoundError);
      });

      it('throws NoResultFoundError on an empty table', async () => {
        await assert.rejects(db.findUserBy({ email: 'bob@example.com' }), NoResultFoundError);
      });

      it('throws InvalidRequestError for an unknown column', async () => {
        await db.addUser('bob@example.com', HASH);
        const filters = { email: 'bob@example.com', no_such_column: 'x' } as UserFilters;
        await assert.rejects(db.findUserBy(filters), InvalidRequestError);
        await assert.rejects(db.findUserBy({ password: 'x' } as UserFilters), {
          name: 'InvalidRequestError',
          message: /password/,
        });
      });

      it('does not let a filter name smuggle SQL in', async () => {
        await db.addUser('bob@example.com', HASH);
        const filters = { 'email = email OR 1': 1 } as unknown as UserFilters;
        await assert.rejects(db.findUserBy(filters), InvalidRequestError);
      });

      it('throws InvalidRequestError for a filter without a value', async () => {
        await db.addUser('bob@example.com', HASH);
        await assert.rejects(db.findUserBy({ email: undefined }), InvalidRequestError);
      });

      it('throws InvalidRequestError for no filters at all', async () => {
        await db.addUser('bob@example.com', HASH);
        await assert.rejects(db.findUserBy({}), InvalidRequestError);
      });

      it('matches a NULL column with a null filter', async () => {
        const bob = await db.addUser('bob@example.com', HASH);
        const alice = await db.addUser('alice@example.com', HASH);
        await db.updateUser(bob.id, { reset_token: 'digest-1' });
        assert.equal((await db.findUserBy({ reset_token: null })).id, alice.id);
        assert.equal(
          (await db.findUserBy({ email: 'bob@example.com', reset_token_expires_at: null })).id,
          bob.id,
        );
        await assert.rejects(
          db.findUserBy({ email: 'bob@example.com', reset_token: null }),
          NoResultFoundError,
        );
      });
    });

    describe('findUser', () => {
      it('returns undefined rather than throwing when nothing matches', async () => {
        assert.equal(await db.findUser({ email: 'nobody@example.com' }), undefined);
      });

      it('still throws InvalidRequestError for bad filters', async () => {
        await assert.rejects(db.findUser({}), InvalidRequestError);
        await assert.rejects(db.findUser({ nope: 1 } as UserFilters), InvalidRequestError);
      });
    });

    describe('updateUser', () => {
      it('changes the given columns and bumps updated_at, leaving the rest', async () => {
        const bob = await db.addUser('bob@example.com', HASH);
        const alice = await db.addUser('alice@example.com', HASH);
        clock.advanceSeconds(60);
        await db.updateUser(bob.id, { hashed_password: OTHER_HASH, reset_token: 'digest-1' });
        const updated = await db.findUserBy({ id: bob.id });
        assert.deepEqual(updated, {
          ...bob,
          hashed_password: OTHER_HASH,
          reset_token: 'digest-1',
          updated_at: bob.created_at + 60_000,
        });
        assert.deepEqual(await db.findUserBy({ id: alice.id }), alice);
      });

      it('can set a column back to NULL', async () => {
        const bob = await db.addUser('bob@example.com', HASH);
        await db.updateUser(bob.id, { reset_token: 'digest-1', reset_token_expires_at: 5 });
        await db.updateUser(bob.id, { reset_token: null, reset_token_expires_at: null });
        const updated = await db.findUserBy({ id: bob.id });
        assert.equal(updated.reset_token, null);
        assert.equal(updated.reset_token_expires_at, null);
      });

      it('throws InvalidAttributeError for an unknown attribute and changes nothing', async () => {
        const bob = await db.addUser('bob@example.com', HASH);
        clock.advanceSeconds(60);
        await assert.rejects(
          db.updateUser(bob.id, { email: 'new@example.com', password: 'x' } as never),
          InvalidAttributeError,
        );
        assert.deepEqual(await db.findUserBy({ id: bob.id }), bob);
      });

      it('throws InvalidAttributeError for id', async () => {
        const bob = await db.addUser('bob@example.com', HASH);
        await assert.rejects(db.updateUser(bob.id, { id: bob.id + 100 }), InvalidAttributeError);
        assert.deepEqual(await db.findUserBy({ id: bob.id }), bob);
      });

      it('throws NoResultFoundError for a user id that does not exist', async () => {
        await db.addUser('bob@example.com', HASH);
        await assert.rejects(db.updateUser(9999, { reset_token: 'x' }), NoResultFoundError);
        await assert.rejects(db.findUserBy({ reset_token: 'x' }), NoResultFoundError);
      });

      it('throws UniqueViolationError when taking another user’s email', async () => {
        await db.addUser('bob@example.com', HASH);
        const alice = await db.addUser('alice@example.com', HASH);
        await assert.rejects(
          db.updateUser(alice.id, { email: 'bob@example.com' }),
          UniqueViolationError,
        );
        assert.equal((await db.findUserBy({ id: alice.id })).email, 'alice@example.com');
      });
    });

    describe('compareAndUpdateUser', () => {
      it('updates only while the row still holds the expected values', async () => {
        const bob = await db.addUser('bob@example.com', HASH);
        const changed = await db.compareAndUpdateUser(
          bob.id,
          { hashed_password: HASH, reset_token: null },
          { reset_token: 'digest-1' },
        );
        assert.equal(changed, true);
        assert.equal((await db.findUserBy({ id: bob.id })).reset_token, 'digest-1');
        const stale = await db.compareAndUpdateUser(
          bob.id,
          { hashed_password: OTHER_HASH },
          { reset_token: 'digest-2' },
        );
        assert.equal(stale, false);
        assert.equal((await db.findUserBy({ id: bob.id })).reset_token, 'digest-1');
      });

      it('refuses unknown columns on either side', async () => {
        const bob = await db.addUser('bob@example.com', HASH);
        await assert.rejects(
          db.compareAndUpdateUser(bob.id, { nope: 1 } as UserFilters, { reset_token: null }),
          InvalidRequestError,
        );
        await assert.rejects(db.compareAndUpdateUser(bob.id, {}, { id: 7 }), InvalidAttributeError);
      });
    });

    describe('consumeResetToken', () => {
      async function userWithToken(expiresAt: number) {
        const bob = await db.addUser('bob@example.com', HASH);
        await giveResetToken(bob.id, 'token-digest', expiresAt);
        return bob;
      }

      it('sets the hash and clears the token when it succeeds', async () => {
        const now = clock.now();
        const bob = await userWithToken(now + 1);
        const consumed = await db.consumeResetToken({
          userId: bob.id,
          tokenDigest: 'token-digest',
          hashedPassword: OTHER_HASH,
          now,
        });
        assert.equal(consumed, true);
        assert.deepEqual(await db.findUserBy({ id: bob.id }), {
          ...bob,
          hashed_password: OTHER_HASH,
          reset_token: null,
          reset_token_expires_at: null,
          updated_at: now,
        });
      });

      it('succeeds only once', async () => {
        const now = clock.now();
        const bob = await userWithToken(now + 60_000);
        const options = { userId: bob.id, tokenDigest: 'token-digest', now };
        assert.equal(await db.consumeResetToken({ ...options, hashedPassword: OTHER_HASH }), true);
        assert.equal(await db.consumeResetToken({ ...options, hashedPassword: HASH }), false);
        assert.equal((await db.findUserBy({ id: bob.id })).hashed_password, OTHER_HASH);
      });

      it('fails for a wrong digest and changes nothing', async () => {
        const now = clock.now();
        const bob = await userWithToken(now + 60_000);
        const before = await db.findUserBy({ id: bob.id });
        const consumed = await db.consumeResetToken({
          userId: bob.id,
          tokenDigest: 'other-digest',
          hashedPassword: OTHER_HASH,
          now,
        });
        assert.equal(consumed, false);
        assert.deepEqual(await db.findUserBy({ id: bob.id }), before);
      });

      it('fails for the right digest on another user', async () => {
        const now = clock.now();
        const bob = await userWithToken(now + 60_000);
        const alice = await db.addUser('alice@example.com', HASH);
        const consumed = await db.consumeResetToken({
          userId: alice.id,
          tokenDigest: 'token-digest',
          hashedPassword: OTHER_HASH,
          now,
        });
        assert.equal(consumed, false);
        assert.equal((await db.findUserBy({ id: bob.id })).reset_token, 'token-digest');
        assert.equal((await db.findUserBy({ id: alice.id })).hashed_password, HASH);
      });

      it('fails once the token has expired, including at the exact expiry instant', async () => {
        const now = clock.now();
        const bob = await userWithToken(now);
        const before = await db.findUserBy({ id: bob.id });
        for (const at of [now, now + 1, now + 3_600_000]) {
          const consumed = await db.consumeResetToken({
            userId: bob.id,
            tokenDigest: 'token-digest',
            hashedPassword: OTHER_HASH,
            now: at,
          });
          assert.equal(consumed, false, `at expiry + ${at - now} ms`);
        }
        assert.deepEqual(await db.findUserBy({ id: bob.id }), before);
      });

      it('succeeds one millisecond before expiry', async () => {
        const now = clock.now();
        const bob = await userWithToken(now);
        const consumed = await db.consumeResetToken({
          userId: bob.id,
          tokenDigest: 'token-digest',
          hashedPassword: OTHER_HASH,
          now: now - 1,
        });
        assert.equal(consumed, true);
      });

      it('fails when no token was ever issued', async () => {
        const bob = await db.addUser('bob@example.com', HASH);
        const consumed = await db.consumeResetToken({
          userId: bob.id,
          tokenDigest: 'token-digest',
          hashedPassword: OTHER_HASH,
          now: clock.now(),
        });
        assert.equal(consumed, false);
        assert.equal((await db.findUserBy({ id: bob.id })).hashed_password, HASH);
      });

      it('lets exactly one of 10 concurrent calls with the same token succeed', async () => {
        const now = clock.now();
        const bob = await userWithToken(now + 60_000);
        const hashes = Array.from({ length: 10 }, (_, i) => `${HASH.slice(0, -2)}${10 + i}`);
        const results = await Promise.all(
          hashes.map((hashedPassword) =>
            db.consumeResetToken({
              userId: bob.id,
              tokenDigest: 'token-digest',
              hashedPassword,
              now,
            }),
          ),
        );
        assert.equal(results.filter((result) => result).length, 1, JSON.stringify(results));
        const winner = hashes[results.indexOf(true)];
        const stored = await db.findUserBy({ id: bob.id });
        assert.equal(stored.hashed_password, winner);
        assert.equal(stored.reset_token, null);
      });
    });
  });
}

describe('migrateToLatest', () => {
  let database: Database | undefined;
  afterEach(async () => {
    await database?.kysely.destroy();
    database = undefined;
  });

  it('applies every migration the first time and nothing the second time', async () => {
    database = openDatabase(await freshDatabaseUrl());
    const first = await migrateToLatest(database);
    assert.deepEqual(
      first.results?.map(({ migrationName, status }) => ({ migrationName, status })),
      Object.keys(migrations(TEST_ENGINE)).map((migrationName) => ({
        migrationName,
        status: 'Success',
      })),
    );
    const db = new DB(database, new FakeClock());
    const bob = await db.addUser('bob@example.com', HASH);

    const second = await migrateToLatest(database);
    assert.equal(second.error, undefined);
    assert.deepEqual(second.results, []);
    assert.deepEqual(await db.findUserBy({ id: bob.id }), bob);
  });

  it('does not re-apply migrations to a reopened database', async () => {
    const url = await sharedUrl();
    database = await openMigrated(url);
    await new DB(database, new FakeClock()).addUser('bob@example.com', HASH);
    await database.kysely.destroy();
    database = openDatabase(url);
    const again = await migrateToLatest(database);
    assert.deepEqual(again.results, []);
  });

  it('creates a users table with the course’s columns but session_id, now a table', async () => {
    database = await openMigrated(await freshDatabaseUrl());
    const tables = await database.kysely.introspection.getTables();
    const users = tables.find((table) => table.name === 'users');
    assert.ok(users, 'a users table exists');
    const byName = new Map(users.columns.map((column) => [column.name, column]));
    for (const name of ['id', 'email', 'hashed_password', 'reset_token']) {
      assert.ok(byName.has(name), `users.${name} exists`);
    }
    for (const name of ['session_id', 'session_created_at', 'session_seen_at']) {
      assert.ok(!byName.has(name), `users.${name} is gone`);
    }
    assert.equal(byName.get('id')?.isAutoIncrementing, true);
    assert.equal(byName.get('email')?.isNullable, false);
    assert.equal(byName.get('hashed_password')?.isNullable, false);
    assert.equal(byName.get('reset_token')?.isNullable, true);
    const sessions = tables.find((table) => table.name === 'sessions');
    assert.ok(sessions, 'a sessions table exists');
    assert.deepEqual(sessions.columns.map((column) => column.name).sort(), [
      'auth_method',
      'created_at',
      'expires_at',
      'id',
      'ip',
      'last_seen_at',
      'token_digest',
      'user_agent',
      'user_id',
    ]);
  });

  it('makes email, reset_token and session token digests unique, indexing only set tokens', async () => {
    database = await openMigrated(await freshDatabaseUrl());
    const unique = (await indexesOf(database)).filter((index) => index.unique);
    assert.deepEqual(
      unique
        .filter((index) => index.table === 'users')
        .map(({ name, columns, partial }) => ({ name, columns, partial })),
      [
        { name: 'users_email_key', columns: ['email'], partial: false },
        { name: 'users_email_key_key', columns: ['email_key'], partial: false },
        { name: 'users_reset_token_key', columns: ['reset_token'], partial: true },
      ],
    );
    assert.deepEqual(
      unique
        .filter((index) => index.table === 'sessions')
        .map(({ name, columns, partial }) => ({ name, columns, partial })),
      [{ name: 'sessions_token_digest_key', columns: ['token_digest'], partial: false }],
    );
  });

  it('completes migration 0004 when a run of it was cut short', async () => {
    database = openDatabase(await freshDatabaseUrl());
    await migrateUpTo(database, '0004_partial_token_indexes');
    // As if the process died after 0004 dropped the first index and before it was recorded.
    await sql`DROP INDEX users_session_id_key`.execute(database.kysely);
    await sql`DELETE FROM kysely_migration WHERE name = '0004_partial_token_indexes'`.execute(
      database.kysely,
    );

    const again = await migrateToLatest(database);

    assert.deepEqual(
      again.results?.map((result) => [result.migrationName, result.status]),
      [
        ['0004_partial_token_indexes', 'Success'],
        ['0005_email_keys', 'Success'],
        ['0006_sessions', 'Success'],
        ['0007_audit_session_details', 'Success'],
        ['0008_two_factor', 'Success'],
        ['0009_login_challenges', 'Success'],
        ['0010_audit_auth_method', 'Success'],
        ['0011_email_verification', 'Success'],
        ['0012_audit_new_email', 'Success'],
        ['0013_passkeys', 'Success'],
        ['0014_webauthn_challenges', 'Success'],
      ],
    );
    const partial = (await indexesOf(database)).filter((index) => index.partial);
    assert.deepEqual(
      partial.map((index) => index.name),
      ['users_reset_token_key'],
    );
  });

  it('reads a session through its index whatever the number of users', async () => {
    database = await openMigrated(await freshDatabaseUrl());
    const db = database.kysely;
    const plan =
      database.engine === 'postgres'
        ? (
            await sql<{ plan: string }>`EXPLAIN (COSTS OFF)
              SELECT u.id FROM sessions s JOIN users u ON u.id = s.user_id
              WHERE s.token_digest = ANY(${['a', 'b']}::text[])`.execute(db)
          ).rows
            .map((row) => Object.values(row).join(' '))
            .join('\n')
        : (
            await sql<{ detail: string }>`EXPLAIN QUERY PLAN
              SELECT u.id FROM sessions s JOIN users u ON u.id = s.user_id
              WHERE s.token_digest IN (${'a'}, ${'b'})`.execute(db)
          ).rows
            .map((row) => row.detail)
            .join('\n');
    assert.match(plan, /sessions_token_digest_key/);
  });

  it('lets exactly one of concurrent resets succeed across two connections', async () => {
    const url = await sharedUrl();
    database = await openMigrated(url);
    const other = openDatabase(url);
    try {
      const clock = new FakeClock();
      const first = new DB(database, clock);
      const second = new DB(other, clock);
      const bob = await first.addUser('bob@example.com', HASH);
      await first.updateUser(bob.id, {
        reset_token: 'token-digest',
        reset_token_expires_at: clock.now() + 60_000,
      });
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 === 0 ? first : second).consumeResetToken({
            userId: bob.id,
            tokenDigest: 'token-digest',
            hashedPassword: OTHER_HASH,
            now: clock.now(),
          }),
        ),
      );
      assert.equal(results.filter((result) => result).length, 1, JSON.stringify(results));
      assert.equal((await second.findUserBy({ id: bob.id })).reset_token, null);
    } finally {
      await other.kysely.destroy();
    }
  });
});

const SQLITE_ONLY = { skip: TEST_ENGINE === 'sqlite' ? false : 'SQLite only' };

describe('openDatabase with a SQLite file', SQLITE_ONLY, () => {
  let database: Database | undefined;
  afterEach(async () => {
    await database?.kysely.destroy();
    database = undefined;
  });

  it('puts the database in WAL journal mode with full fsync', async () => {
    database = await openMigrated(fileUrl());
    const journal = await sql<{ journal_mode: string }>`PRAGMA journal_mode`.execute(
      database.kysely,
    );
    assert.deepEqual(journal.rows, [{ journal_mode: 'wal' }]);
    const synchronous = await sql<{ synchronous: number }>`PRAGMA synchronous`.execute(
      database.kysely,
    );
    // 2 is FULL.
    assert.deepEqual(synchronous.rows, [{ synchronous: 2 }]);
    const foreignKeys = await sql<{ foreign_keys: number }>`PRAGMA foreign_keys`.execute(
      database.kysely,
    );
    assert.deepEqual(foreignKeys.rows, [{ foreign_keys: 1 }]);
  });

  it('creates missing parent folders', async () => {
    const url = fileUrl(join('nested', 'deeper', 'users.db'));
    const path = url.slice('sqlite:'.length);
    assert.equal(existsSync(path), false);
    database = await openMigrated(url);
    assert.equal(existsSync(path), true);
  });

  it('keeps what was written after the database is closed and reopened', async () => {
    const url = fileUrl();
    database = await openMigrated(url);
    const clock = new FakeClock();
    const db = new DB(database, clock);
    const bob = await db.addUser('bob@example.com', HASH);
    await db.updateUser(bob.id, { reset_token: 'digest-1', reset_token_expires_at: 42 });
    const written = await db.findUserBy({ id: bob.id });
    await database.kysely.destroy();

    database = await openMigrated(url);
    const reopened = new DB(database, clock);
    assert.deepEqual(await reopened.findUserBy({ email: 'bob@example.com' }), written);
    await assert.rejects(reopened.addUser('bob@example.com', HASH), UniqueViolationError);
  });

  it('sees one connection’s committed write from a second connection to the same file', async () => {
    const url = fileUrl();
    database = await openMigrated(url);
    const other = openDatabase(url);
    try {
      const bob = await new DB(database, new FakeClock()).addUser('bob@example.com', HASH);
      const seen = await new DB(other, new FakeClock()).findUserBy({ id: bob.id });
      assert.deepEqual(seen, bob);
    } finally {
      await other.kysely.destroy();
    }
  });
});

describe('openDatabase with SQLite in memory', SQLITE_ONLY, () => {
  it('gives each open its own, empty database', async () => {
    const a = await openMigrated('sqlite::memory:');
    const b = await openMigrated('sqlite::memory:');
    try {
      await new DB(a, new FakeClock()).addUser('bob@example.com', HASH);
      assert.equal(
        await new DB(b, new FakeClock()).findUser({ email: 'bob@example.com' }),
        undefined,
      );
    } finally {
      await a.kysely.destroy();
      await b.kysely.destroy();
    }
  });

  it('refuses a URL of an unsupported engine', () => {
    assert.throws(() => openDatabase('mysql://localhost/db'), /Unsupported DATABASE_URL/);
  });
});
