/**
 * Opens the database named by DATABASE_URL. The engine is chosen from the URL's scheme, never
 * guessed: `sqlite:PATH` (embedded; WAL mode, full fsync at every commit, so an acknowledged write
 * survives a crash) or `postgres://…` (a connection pool shared by the process; connection and
 * query time-outs so that an unreachable server fails requests fast instead of hanging them).
 * On SQLite, a lock held by another connection is waited for off the event loop (see
 * sqlite-locks.ts). On both, every query's outcome feeds the storage health (storage-health.ts).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { createRequire } from 'node:module';
import { Kysely, PostgresDialect } from 'kysely';
import type pgModule from 'pg';
import { systemClock, type Clock } from '../clock.js';
import type { Schema } from './schema.js';
import { LOCK_STEP_MS, LockWaitingSqliteDialect } from './sqlite-locks.js';
import { StorageHealth } from './storage-health.js';

export type Engine = 'sqlite' | 'postgres';

export interface Database {
  readonly kysely: Kysely<Schema>;
  readonly engine: Engine;
  /**
   * SQLite: the connection itself, for the one statement run without Kysely (the session lookup).
   * It does not wait for Kysely's connection lock: were the service ever to hold a transaction
   * open across an await, session checks would read its uncommitted writes.
   */
  readonly sqlite?: SQLite.Database;
  /** PostgreSQL: the pool itself, for the same purpose. */
  readonly pool?: pgModule.Pool;
  /** PostgreSQL: connections open, idle, and requests waiting for one. */
  readonly poolStats?: () => { total: number; idle: number; waiting: number };
  /** Whether writes are failing for lack of space or another storage error. */
  readonly storage: StorageHealth;
}

export interface DatabaseOptions {
  /** PostgreSQL: most connections open at once. */
  readonly poolSize?: number;
  /** PostgreSQL: called when an idle pooled connection fails (the pool replaces it). */
  readonly onConnectionError?: (error: Error) => void;
  /** Dates the storage failures. */
  readonly clock?: Clock;
}

/** How long to wait for a PostgreSQL connection, or for a query's answer, before failing. */
export const CONNECT_TIMEOUT_MS = 3000;
export const QUERY_TIMEOUT_MS = 5000;

/** The engine a DATABASE_URL names, or undefined for an unsupported one. */
export function engineOf(url: string): Engine | undefined {
  if (/^sqlite:./.test(url)) return 'sqlite';
  if (/^postgres(ql)?:\/\/./.test(url)) return 'postgres';
  return undefined;
}

/** Opens the database at `url`; for SQLite the file (and its folder) is created when missing. */
export function openDatabase(url: string, options: DatabaseOptions = {}): Database {
  const engine = engineOf(url);
  const storage = new StorageHealth(options.clock ?? systemClock);
  if (engine === 'sqlite') return openSqlite(url.slice('sqlite:'.length), storage);
  if (engine === 'postgres') return openPostgres(url, options, storage);
  throw new Error('Unsupported DATABASE_URL: expected sqlite:PATH or postgres://…');
}

function openSqlite(path: string, storage: StorageHealth): Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new SQLite(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma(`busy_timeout = ${LOCK_STEP_MS}`);
  // Kysely prepares every query anew; the service runs a handful of distinct statements, so
  // keeping each prepared once saves a parse on every request (binding stays per call).
  const statements = new Map<string, SQLite.Statement>();
  const database = {
    prepare(source: string) {
      let statement = statements.get(source);
      if (statement === undefined) {
        statement = sqlite.prepare(source);
        if (statements.size < 256) statements.set(source, statement);
      }
      return statement;
    },
    close: () => sqlite.close(),
  };
  return {
    kysely: new Kysely<Schema>({
      dialect: new LockWaitingSqliteDialect(sqlite, { database }),
      log: storage.observe,
    }),
    engine: 'sqlite',
    sqlite,
    storage,
  };
}

// The PostgreSQL driver is loaded only when a postgres:// URL asks for it: a SQLite deployment
// starts faster without it.
const require = createRequire(import.meta.url);

function openPostgres(url: string, options: DatabaseOptions, storage: StorageHealth): Database {
  const pg = require('pg') as typeof pgModule;
  // Times are epoch milliseconds in bigint columns: read them as numbers (exact up to 2^53), so
  // rows look the same as SQLite's.
  const epochMillisecondsAsNumbers = new pg.TypeOverrides();
  epochMillisecondsAsNumbers.setTypeParser(pg.types.builtins.INT8, Number);
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    query_timeout: QUERY_TIMEOUT_MS,
    types: epochMillisecondsAsNumbers,
  });
  // A connection can fail while idle in the pool (the pool reports it) or while checked out
  // between two queries (the client itself reports it, and would crash the process unheard). Both
  // are only logged: the query that needed the connection fails on its own, and the pool replaces it.
  const onConnectionError = (error: Error) => options.onConnectionError?.(error);
  pool.on('error', onConnectionError);
  pool.on('connect', (client) => client.on('error', onConnectionError));
  return {
    kysely: new Kysely<Schema>({ dialect: new PostgresDialect({ pool }), log: storage.observe }),
    engine: 'postgres',
    pool,
    storage,
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
  };
}
