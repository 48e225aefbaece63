/**
 * The database the suite runs against. The same test files run twice: once on SQLite and once,
 * with TEST_DATABASE=postgres, on PostgreSQL (TEST_POSTGRES_URL, by default the local server's
 * `test` database). There, each test file creates a database of its own, dropped when the file
 * ends, and every fresh database a test asks for is a new schema in it: runs, parallel test files
 * and tests never see each other's rows.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { after } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import type { Database, Engine } from '../../src/db/connection.js';
import { temporaryDirectory } from './files.js';

export const TEST_ENGINE: Engine = process.env.TEST_DATABASE === 'postgres' ? 'postgres' : 'sqlite';
export const TEST_POSTGRES_URL =
  process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

// Each test file gets a database of its own on the server, and each fresh database within it is
// a schema. Files run in parallel never see each other, nor other runs of the suite.
let fileDatabase: Promise<{ url: string; admin: pg.Client }> | undefined;

// Registered when this module is first imported, so on the test file's root: the database
// outlives every test, hook and server process of the file, and is dropped at its end.
after(async () => {
  if (fileDatabase === undefined) return;
  const { url, admin } = await fileDatabase;
  // A client's end() resolves once its connection is closed (a pool's may resolve before).
  await admin.end();
  await onServer(`DROP DATABASE ${new URL(url).pathname.slice(1)} WITH (FORCE)`);
});

/** Runs one statement on the test server's own database, with a connection of its own. */
async function onServer(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

function databaseOfThisFile(): Promise<{ url: string; admin: pg.Client }> {
  fileDatabase ??= (async () => {
    const name = `bienvenue_test_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
    await onServer(`CREATE DATABASE ${name}`);
    const url = new URL(TEST_POSTGRES_URL);
    url.pathname = `/${name}`;
    const admin = new pg.Client({ connectionString: url.toString() });
    await admin.connect();
    return { url: url.toString(), admin };
  })();
  return fileDatabase;
}

/** `url` with its connections' search path set to `schema`. */
export function withSearchPath(url: string, schema: string): string {
  const withOptions = new URL(url);
  withOptions.searchParams.set('options', `-c search_path=${schema}`);
  return withOptions.toString();
}

/** A new empty PostgreSQL schema, dropped with the file's database; returns its URL. */
export async function freshPostgresUrl(): Promise<string> {
  const { url, admin } = await databaseOfThisFile();
  const schema = `test_${randomUUID().replaceAll('-', '').slice(0, 20)}`;
  await admin.query(`CREATE SCHEMA ${schema}`);
  return withSearchPath(url, schema);
}

/**
 * A new empty database of the engine under test. On SQLite, in memory unless `sqliteFile` names
 * a file (needed when several processes must share it).
 */
export async function freshDatabaseUrl(options: { sqliteFile?: string } = {}): Promise<string> {
  if (TEST_ENGINE === 'postgres') return freshPostgresUrl();
  return options.sqliteFile === undefined ? 'sqlite::memory:' : `sqlite:${options.sqliteFile}`;
}

export interface IndexShape {
  table: string;
  name: string;
  columns: string[];
  unique: boolean;
  /** Whether the index covers only the rows of a condition. */
  partial: boolean;
}

/** The secondary indexes of the application's tables (not primary keys, not Kysely's own). */
export async function indexesOf(database: Database): Promise<IndexShape[]> {
  const db = database.kysely;
  let indexes: IndexShape[];
  if (database.engine === 'postgres') {
    const { rows } = await sql<IndexShape>`
      SELECT t.relname AS "table", i.relname AS name, ix.indisunique AS "unique",
             ix.indpred IS NOT NULL AS partial, array_agg(a.attname::text ORDER BY k.n) AS columns
      FROM pg_index ix
      JOIN pg_class i ON i.oid = ix.indexrelid
      JOIN pg_class t ON t.oid = ix.indrelid
      JOIN pg_namespace ns ON ns.oid = t.relnamespace
      CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, n)
      JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
      WHERE ns.nspname = current_schema() AND NOT ix.indisprimary
        AND t.relname NOT LIKE 'kysely_%'
      GROUP BY t.relname, i.relname, ix.indisunique, ix.indpred`.execute(db);
    indexes = rows;
  } else {
    const { rows } = await sql<{
      table: string;
      name: string;
      unique: number;
      partial: number;
      origin: string;
    }>`
      SELECT m.name AS "table", il.name AS name, il."unique" AS "unique", il.partial AS partial,
             il.origin AS origin
      FROM sqlite_master m, pragma_index_list(m.name) il
      WHERE m.type = 'table' AND m.name NOT LIKE 'kysely_%'`.execute(db);
    indexes = [];
    for (const row of rows.filter((index) => index.origin !== 'pk')) {
      const columns = await sql<{ name: string }>`
        SELECT name FROM pragma_index_info(${row.name}) ORDER BY seqno`.execute(db);
      indexes.push({
        table: row.table,
        name: row.name,
        unique: row.unique === 1,
        partial: row.partial === 1,
        columns: columns.rows.map((column) => column.name),
      });
    }
  }
  return indexes.sort((a, b) => a.name.localeCompare(b.name));
}

/** A fresh database whose rows a test can read directly, behind the service's back. */
export interface InspectableDatabase {
  readonly url: string;
  /** Runs a read-only query on a connection of its own; bigint columns come back as numbers. */
  rows(query: string): Promise<Record<string, unknown>[]>;
  /** Runs a statement that changes something, on a connection of its own. */
  execute(statement: string): Promise<void>;
}

export async function inspectableDatabase(): Promise<InspectableDatabase> {
  if (TEST_ENGINE === 'sqlite') {
    const file = join(temporaryDirectory(), 'inspected.db');
    return {
      url: `sqlite:${file}`,
      rows(query) {
        const reader = new SQLite(file, { readonly: true });
        try {
          return Promise.resolve(reader.prepare(query).all() as Record<string, unknown>[]);
        } finally {
          reader.close();
        }
      },
      execute(statement) {
        const writer = new SQLite(file);
        try {
          writer.exec(statement);
        } finally {
          writer.close();
        }
        return Promise.resolve();
      },
    };
  }
  const url = await freshPostgresUrl();
  return {
    url,
    async rows(query) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const { rows, fields } = await client.query<Record<string, unknown>>(query);
        const bigints = fields.filter((field) => field.dataTypeID === 20).map((f) => f.name);
        for (const row of rows) {
          for (const name of bigints) if (row[name] !== null) row[name] = Number(row[name]);
        }
        return rows;
      } finally {
        await client.end();
      }
    },
    async execute(statement) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(statement);
      } finally {
        await client.end();
      }
    },
  };
}
