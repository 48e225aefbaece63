/**
 * The first migration of an empty SQLite database runs with unsynced commits (see
 * migrations.ts): afterwards every commit is synced again, and the schema is in the database
 * file itself, not only in a write-ahead log that was never synced. A database that holds
 * anything is migrated with its commits synced throughout.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { sql } from 'kysely';
import { openDatabase } from '../../src/db/connection.js';
import { migrateToLatest, pendingMigrations } from '../../src/db/migrations.js';
import { temporaryDirectory } from '../support/files.js';
import { migrateUpTo } from '../support/migrations.js';

/** SQLite's `synchronous` setting: 2 is FULL, what the service runs with. */
const FULL = 2;

test('an empty database is migrated, then its commits are synced again and its log is empty', async () => {
  const path = join(temporaryDirectory(), 'fresh.db');
  const database = openDatabase(`sqlite:${path}`);
  const sqlite = database.sqlite;
  assert.ok(sqlite);
  try {
    await migrateToLatest(database);
    assert.equal(sqlite.pragma('synchronous', { simple: true }), FULL);
    assert.deepEqual(await pendingMigrations(database), []);
    // The schema was checkpointed into the database file: the log holds nothing.
    assert.equal(statSync(`${path}-wal`).size, 0);
  } finally {
    await database.kysely.destroy();
  }
});

test('a database holding something is migrated with every commit synced', async () => {
  const path = join(temporaryDirectory(), 'older.db');
  const database = openDatabase(`sqlite:${path}`);
  const sqlite = database.sqlite;
  assert.ok(sqlite);
  try {
    await migrateUpTo(database, '0004_partial_token_indexes');
    const seen: unknown[] = [];
    // Each migration's statements go through Kysely: see the setting while they run.
    const spy = database.kysely.withPlugin({
      transformQuery: (args) => {
        seen.push(sqlite.pragma('synchronous', { simple: true }));
        return args.node;
      },
      transformResult: (args) => Promise.resolve(args.result),
    });
    await sql`SELECT 1`.execute(spy);
    await migrateToLatest({ ...database, kysely: spy });
    assert.ok(seen.length > 1);
    assert.ok(seen.every((value) => value === FULL));
  } finally {
    await database.kysely.destroy();
  }
});
