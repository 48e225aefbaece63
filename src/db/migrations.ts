/**
 * Versioned schema migrations, kept in code so the built service needs no migration files on disk.
 * They run at every start (a no-op when current) and through `npm run migrate`. Never edit a
 * migration that has shipped: add the next one.
 */
import {
  Migrator,
  sql,
  type ColumnDefinitionBuilder,
  type Kysely,
  type Migration,
  type MigrationResultSet,
} from 'kysely';
import { describeError } from '../describe-error.js';
import type { Database, Engine } from './connection.js';

// Kysely's migration API takes an untyped handle: a migration must not depend on today's schema.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

/**
 * The migrations, in order. The schema is the same on both engines but for how ids are generated:
 * neither ever reuses the id of a deleted user.
 */
export function migrations(engine: Engine): Record<string, Migration> {
  return {
    '0001_users': {
      async up(db: AnyDb) {
        await db.schema
          .createTable('users')
          .addColumn('id', 'integer', idColumn(engine))
          .addColumn('email', 'text', (col) => col.notNull())
          .addColumn('hashed_password', 'text', (col) => col.notNull())
          .addColumn('session_id', 'text')
          .addColumn('session_created_at', 'bigint')
          .addColumn('session_seen_at', 'bigint')
          .addColumn('reset_token', 'text')
          .addColumn('reset_token_expires_at', 'bigint')
          .addColumn('created_at', 'bigint', (col) => col.notNull())
          .addColumn('updated_at', 'bigint', (col) => col.notNull())
          .execute();
        await db.schema
          .createIndex('users_email_key')
          .on('users')
          .column('email')
          .unique()
          .execute();
        await db.schema
          .createIndex('users_session_id_key')
          .on('users')
          .column('session_id')
          .unique()
          .execute();
        await db.schema
          .createIndex('users_reset_token_key')
          .on('users')
          .column('reset_token')
          .unique()
          .execute();
      },
      async down(db: AnyDb) {
        await db.schema.dropTable('users').execute();
      },
    },
    '0002_throttles': {
      async up(db: AnyDb) {
        await db.schema
          .createTable('throttles')
          .addColumn('kind', 'text', (col) => col.notNull())
          .addColumn('subject', 'text', (col) => col.notNull())
          .addColumn('count', 'integer', (col) => col.notNull())
          .addColumn('window_started_at', 'bigint', (col) => col.notNull())
          .addColumn('blocked_until', 'bigint')
          .addPrimaryKeyConstraint('throttles_pkey', ['kind', 'subject'])
          .execute();
        await db.schema
          .createIndex('throttles_window_started_at_idx')
          .on('throttles')
          .column('window_started_at')
          .execute();
      },
      async down(db: AnyDb) {
        await db.schema.dropTable('throttles').execute();
      },
    },
    '0003_audit_events': {
      async up(db: AnyDb) {
        // No foreign key to users: the trail of a deleted account is kept.
        await db.schema
          .createTable('audit_events')
          .addColumn('id', 'integer', idColumn(engine))
          .addColumn('at', 'bigint', (col) => col.notNull())
          .addColumn('type', 'text', (col) => col.notNull())
          .addColumn('user_id', 'integer')
          .addColumn('email', 'text')
          .addColumn('ip', 'text')
          .addColumn('user_agent', 'text')
          .execute();
        await db.schema
          .createIndex('audit_events_at_idx')
          .on('audit_events')
          .column('at')
          .execute();
        await db.schema
          .createIndex('audit_events_user_id_idx')
          .on('audit_events')
          .columns(['user_id', 'at'])
          .execute();
      },
      async down(db: AnyDb) {
        await db.schema.dropTable('audit_events').execute();
      },
    },
    '0004_partial_token_indexes': {
      // Only live sessions and outstanding reset tokens are indexed, not the NULL of every other
      // account: the index a session check reads stays as small as the number of sessions.
      async up(db: AnyDb) {
        await rebuildTokenIndexes(db, { partial: true });
      },
      async down(db: AnyDb) {
        await rebuildTokenIndexes(db, { partial: false });
      },
    },
  };
}

/**
 * Recreates the unique indexes on `users.session_id` and `users.reset_token`, covering only the
 * rows that have one when `partial`. SQLite runs a migration's statements outside a transaction:
 * each step is written so that a run cut short is completed by the next one.
 */
async function rebuildTokenIndexes(db: AnyDb, options: { partial: boolean }): Promise<void> {
  for (const column of ['session_id', 'reset_token'] as const) {
    await db.schema.dropIndex(`users_${column}_key`).ifExists().execute();
    const index = db.schema
      .createIndex(`users_${column}_key`)
      .ifNotExists()
      .on('users')
      .column(column)
      .unique();
    await (options.partial ? index.where(column, 'is not', null) : index).execute();
  }
}

/** An integer key that is never reused, spelled out NOT NULL (SQLite would describe it nullable). */
function idColumn(engine: Engine) {
  return (col: ColumnDefinitionBuilder) =>
    engine === 'postgres'
      ? col.primaryKey().notNull().generatedByDefaultAsIdentity()
      : col.primaryKey().notNull().autoIncrement();
}

/**
 * Applies every pending migration; throws if one fails (the failed one is rolled back). Instances
 * starting together are safe: Kysely's migrator serializes them with a lock (on PostgreSQL an
 * advisory lock), and whoever comes second finds the work done.
 */
export async function migrateToLatest(database: Database): Promise<MigrationResultSet> {
  const db = database.kysely as AnyDb;
  // PostgreSQL: keep the bookkeeping tables in the schema the users table goes to (the first of
  // the search path), not wherever another schema of the database happens to have them.
  const schema =
    database.engine === 'postgres'
      ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]
          ?.schema
      : undefined;
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(migrations(database.engine)) },
    ...(schema === undefined ? {} : { migrationTableSchema: schema }),
  });
  const result = await migrator.migrateToLatest();
  if (result.error !== undefined) {
    throw new Error(`Database migration failed: ${describeError(result.error)}`, {
      cause: result.error,
    });
  }
  return result;
}

/** Names of the migrations not yet applied to the database (all of them on an empty one). */
export async function pendingMigrations(database: Database): Promise<string[]> {
  const db = database.kysely as AnyDb;
  const known = Object.keys(migrations(database.engine));
  let applied: string[];
  try {
    const rows = await sql<{ name: string }>`SELECT name FROM kysely_migration`.execute(db);
    applied = rows.rows.map((row) => row.name);
  } catch (error) {
    // No bookkeeping table yet: nothing applied. Anything else (unreachable…) is an error.
    if (/kysely_migration|no such table/i.test(describeError(error))) return known;
    throw error;
  }
  return known.filter((name) => !applied.includes(name));
}
