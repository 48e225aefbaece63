/**
 * Migration 0006 (sessions get a table of their own) on a database that the previous version
 * left, with live sessions in `users`: nobody is logged out by the upgrade, the session columns
 * are gone, and the sessions moved keep their times.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import bcrypt from 'bcrypt';
import { sql } from 'kysely';
import { digestToken, generateUuid } from '../../src/auth/tokens.js';
import { openDatabase } from '../../src/db/connection.js';
import { migrateToLatest } from '../../src/db/migrations.js';
import { FakeClock } from '../support/fakes.js';
import { inspectableDatabase, indexesOf } from '../support/databases.js';
import { migrateUpTo } from '../support/migrations.js';
import { startTestService } from '../support/service.js';

const PASSWORD = 'correct horse';

describe('migration 0006_sessions on a database of the previous version', () => {
  test('every live session stays live, the logged-out stay out, and users loses its session columns', async () => {
    const clock = new FakeClock();
    const now = clock.now();
    const inspectable = await inspectableDatabase();
    const database = openDatabase(inspectable.url);
    await migrateUpTo(database, '0005_email_keys');
    const hash = await bcrypt.hash(PASSWORD, 4);
    const tokens = new Map<string, string>();
    for (const name of ['ann', 'ben', 'cat']) {
      const token = generateUuid();
      tokens.set(name, token);
      await sql`INSERT INTO users (email, email_key, hashed_password, session_id,
          session_created_at, session_seen_at, created_at, updated_at)
        VALUES (${`${name}@example.com`}, ${`${name}@example.com`}, ${hash},
          ${digestToken(token)}, ${now - 3_600_000}, ${now - 60_000}, 1, 1)`.execute(
        database.kysely,
      );
    }
    await sql`INSERT INTO users (email, email_key, hashed_password, created_at, updated_at)
      VALUES ('out@example.com', 'out@example.com', ${hash}, 1, 1)`.execute(database.kysely);
    await database.kysely.destroy();

    // The service migrates at start, as an upgraded instance would.
    const { app } = await startTestService({ DATABASE_URL: inspectable.url }, { clock });
    for (const [name, token] of tokens) {
      const profile = await app.inject({
        method: 'GET',
        url: '/profile',
        cookies: { session_id: token },
      });
      assert.equal(profile.statusCode, 200, `${name} is still logged in`);
      assert.deepEqual(profile.json(), {
        email: `${name}@example.com`,
        two_factor: false,
        email_verified: false,
      });
    }

    const sessions = await inspectable.rows(
      'SELECT s.*, u.email FROM sessions s JOIN users u ON u.id = s.user_id ORDER BY u.email',
    );
    assert.deepEqual(
      sessions.map((row) => [
        row.email,
        row.token_digest,
        Number(row.created_at),
        Number(row.auth_method === 'password'),
      ]),
      [...tokens].map(([name, token]) => [
        `${name}@example.com`,
        digestToken(token),
        now - 3_600_000,
        1,
      ]),
    );
    const ids = sessions.map((row) => String(row.id));
    assert.equal(new Set(ids).size, ids.length, 'each session has its own public id');
    for (const row of sessions) {
      assert.match(String(row.id), /^[A-Za-z0-9_-]{22}$/);
      assert.notEqual(row.id, row.token_digest);
    }
    const [user] = await inspectable.rows("SELECT * FROM users WHERE email = 'ann@example.com'");
    assert.ok(user);
    for (const column of ['session_id', 'session_created_at', 'session_seen_at']) {
      assert.ok(!(column in user), `users.${column} is dropped`);
    }
  });

  test('down keeps the most recently seen session of each account; up again moves it back', async () => {
    const inspectable = await inspectableDatabase();
    const database = openDatabase(inspectable.url);
    try {
      await migrateUpTo(database, '0005_email_keys');
      const token = generateUuid();
      await sql`INSERT INTO users (email, email_key, hashed_password, session_id,
          session_created_at, session_seen_at, created_at, updated_at)
        VALUES ('ann@example.com', 'ann@example.com', 'h', ${digestToken(token)}, 5, 6, 1, 1)`.execute(
        database.kysely,
      );
      await migrateToLatest(database);
      await migrateUpTo(database, '0005_email_keys');
      const [back] = await inspectable.rows('SELECT session_id, session_seen_at FROM users');
      assert.deepEqual(
        { ...back, session_seen_at: Number(back?.session_seen_at) },
        { session_id: digestToken(token), session_seen_at: 6 },
      );
      await migrateToLatest(database);
      const rows = await inspectable.rows('SELECT token_digest, last_seen_at FROM sessions');
      assert.deepEqual(
        rows.map((row) => [row.token_digest, Number(row.last_seen_at)]),
        [[digestToken(token), 6]],
      );
    } finally {
      await database.kysely.destroy();
    }
  });

  test('a run cut short after the copy is completed by the next one, copying nothing twice', async () => {
    const inspectable = await inspectableDatabase();
    const database = openDatabase(inspectable.url);
    try {
      await migrateUpTo(database, '0005_email_keys');
      const token = generateUuid();
      await sql`INSERT INTO users (email, email_key, hashed_password, session_id,
          session_created_at, session_seen_at, created_at, updated_at)
        VALUES ('ann@example.com', 'ann@example.com', 'h', ${digestToken(token)}, 5, 6, 1, 1)`.execute(
        database.kysely,
      );
      // Up to 0006 only: the migrations after it had not run either.
      await migrateUpTo(database, '0006_sessions');
      // As if the process died after the copy, before the columns were dropped and the run was
      // recorded (SQLite runs a migration outside a transaction).
      for (const column of [
        'session_id text',
        'session_created_at bigint',
        'session_seen_at bigint',
      ])
        await sql`ALTER TABLE users ADD COLUMN ${sql.raw(column)}`.execute(database.kysely);
      await sql`UPDATE users SET session_id = ${digestToken(token)}, session_created_at = 5,
        session_seen_at = 6`.execute(database.kysely);
      await sql`CREATE UNIQUE INDEX users_session_id_key ON users (session_id)`.execute(
        database.kysely,
      );
      await sql`DELETE FROM kysely_migration WHERE name = '0006_sessions'`.execute(database.kysely);

      const again = await migrateUpTo(database, '0006_sessions');

      assert.deepEqual(
        again.results?.map((result) => [result.migrationName, result.status]),
        [['0006_sessions', 'Success']],
      );
      const rows = await inspectable.rows('SELECT token_digest FROM sessions');
      assert.deepEqual(
        rows.map((row) => row.token_digest),
        [digestToken(token)],
      );
      assert.ok(
        !(await indexesOf(database)).some((index) => index.name === 'users_session_id_key'),
      );
      const [user] = await inspectable.rows('SELECT * FROM users');
      assert.ok(user && !('session_id' in user));
    } finally {
      await database.kysely.destroy();
    }
  });
});
