/**
 * Opens the database named by DATABASE_URL. The engine is chosen from the URL's scheme, never
 * guessed. SQLite runs in WAL mode with full fsync on commit, so an acknowledged write survives a
 * crash of the process (and of the machine).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Schema } from './schema.js';

export type Engine = 'sqlite';

export interface Database {
  readonly kysely: Kysely<Schema>;
  readonly engine: Engine;
}

/** Opens (creating if needed) the database at `url`, `sqlite:PATH` or `sqlite::memory:`. */
export function openDatabase(url: string): Database {
  if (!url.startsWith('sqlite:')) throw new Error(`Unsupported DATABASE_URL scheme: ${url}`);
  const path = url.slice('sqlite:'.length);
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new SQLite(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  return {
    kysely: new Kysely<Schema>({ dialect: new SqliteDialect({ database: sqlite }) }),
    engine: 'sqlite',
  };
}
