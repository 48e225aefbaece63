/** PostgreSQL only: the migrated schema matches SQLite's, and concurrent migrations are safe. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDatabase, type Database } from '../../src/db/connection.js';
import { migrateToLatest, migrations } from '../../src/db/migrations.js';
import { freshPostgresUrl, indexesOf } from '../support/databases.js';

/**
 * Keys that are an account's id, not generated: on SQLite an INTEGER PRIMARY KEY is the rowid, which
 * Kysely describes as auto-incrementing, but these are always given (and are foreign keys).
 */
const GIVEN_INTEGER_KEYS = new Set(['two_factor.user_id']);

// Column types as each engine names them, reduced to one vocabulary.
const TYPE_FAMILY: Record<string, string> = {
  integer: 'integer',
  int4: 'integer',
  bigint: 'bigint',
  int8: 'bigint',
  text: 'text',
};

async function shapeOf(database: Database) {
  const tables = (await database.kysely.introspection.getTables())
    .map((table) => ({
      name: table.name,
      columns: table.columns
        .map((column) => ({
          name: column.name,
          type: TYPE_FAMILY[column.dataType.toLowerCase()] ?? `unknown:${column.dataType}`,
          nullable: column.isNullable,
          autoIncrement:
            column.isAutoIncrementing && !GIVEN_INTEGER_KEYS.has(`${table.name}.${column.name}`),
        }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
  return { tables, indexes: await indexesOf(database) };
}

test('the migrated schemas of SQLite and PostgreSQL have the same tables, columns and indexes', async () => {
  const sqlite = openDatabase('sqlite::memory:');
  const postgres = openDatabase(await freshPostgresUrl());
  try {
    await migrateToLatest(sqlite);
    await migrateToLatest(postgres);
    const [sqliteShape, postgresShape] = await Promise.all([shapeOf(sqlite), shapeOf(postgres)]);
    assert.ok(sqliteShape.tables.some((table) => table.name === 'users'));
    assert.ok(sqliteShape.indexes.length >= 3);
    assert.deepEqual(postgresShape, sqliteShape);
  } finally {
    await sqlite.kysely.destroy();
    await postgres.kysely.destroy();
  }
});

test('five instances migrating one empty database at once all succeed, and migrate it once', async () => {
  const url = await freshPostgresUrl();
  const databases = Array.from({ length: 5 }, () => openDatabase(url, { poolSize: 2 }));
  try {
    const results = await Promise.all(databases.map((database) => migrateToLatest(database)));
    const applied = results.flatMap((result) => result.results ?? []);
    assert.deepEqual(
      applied.map((result) => `${result.migrationName}:${result.status}`).sort(),
      Object.keys(migrations('postgres')).map((name) => `${name}:Success`),
    );
    const [first] = databases;
    assert.ok(first);
    const rows = await first.kysely
      .selectFrom('users')
      .select((eb) => eb.fn.countAll().as('count'))
      .executeTakeFirst();
    assert.equal(Number(rows?.count), 0);
  } finally {
    await Promise.all(databases.map((database) => database.kysely.destroy()));
  }
});
