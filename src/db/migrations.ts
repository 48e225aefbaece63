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
import { emailKey, normalizeEmail } from '../auth/email.js';
import { generateSessionPublicId } from '../auth/tokens.js';
import { describeError } from '../describe-error.js';
import type { Database, Engine } from './connection.js';

// Kysely's migration API takes an untyped handle: a migration must not depend on today's schema.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

/** Where migrations report what an operator should know (a pino logger will do). */
export interface MigrationLog {
  warn(details: object, message: string): void;
}

export interface MigrationOptions {
  /** Reports of migrations that found something to look at; none when absent. */
  readonly log?: MigrationLog;
}

/**
 * The migrations, in order. The schema is the same on both engines but for how ids are generated:
 * neither ever reuses the id of a deleted user.
 */
export function migrations(
  engine: Engine,
  options: MigrationOptions = {},
): Record<string, Migration> {
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
    '0005_email_keys': {
      // Look-alike addresses are compared under one key (auth/email.ts). Existing addresses are
      // left as they are, and reported when the normalization of today would write them
      // otherwise, or when their keys collide; the ids are reported, never the addresses.
      async up(db: AnyDb) {
        await addEmailKeys(db, engine, options.log);
      },
      async down(db: AnyDb) {
        await db.schema.dropIndex('users_email_key_key').ifExists().execute();
        await db.schema.alterTable('users').dropColumn('email_key').execute();
      },
    },
    '0006_sessions': {
      // Several sessions per account: each its own row. The live session of every account moves
      // over under the same token digest, so nobody is logged out by the upgrade.
      async up(db: AnyDb) {
        // The old index goes first: on SQLite the page it frees then holds the new table, rather
        // than staying free in the file.
        await db.schema.dropIndex('users_session_id_key').ifExists().execute();
        await createSessions(db);
        await moveSessionsOutOfUsers(db, engine);
      },
      async down(db: AnyDb) {
        await moveSessionsBackToUsers(db, engine);
      },
    },
    '0007_audit_session_details': {
      // Session events name the session (its public id) and, when one ends, why.
      async up(db: AnyDb) {
        await db.schema.alterTable('audit_events').addColumn('session_id', 'text').execute();
        await db.schema.alterTable('audit_events').addColumn('reason', 'text').execute();
      },
      async down(db: AnyDb) {
        await db.schema.alterTable('audit_events').dropColumn('reason').execute();
        await db.schema.alterTable('audit_events').dropColumn('session_id').execute();
      },
    },
    '0008_two_factor': {
      // The authenticator-app factor (its secret sealed, never in the clear) and recovery codes
      // (keyed hashes only); both go with their account.
      async up(db: AnyDb) {
        await createTwoFactor(db, engine);
      },
      async down(db: AnyDb) {
        await db.schema.dropTable('recovery_codes').ifExists().execute();
        await db.schema.dropTable('two_factor').ifExists().execute();
      },
    },
  };
}

/** The `two_factor` and `recovery_codes` tables (each step can be run again, as on SQLite it may be). */
async function createTwoFactor(db: AnyDb, engine: Engine): Promise<void> {
  await db.schema
    .createTable('two_factor')
    .ifNotExists()
    .addColumn('user_id', 'integer', (col) =>
      col.primaryKey().notNull().references('users.id').onDelete('cascade'),
    )
    .addColumn('secret_sealed', 'text', (col) => col.notNull())
    .addColumn('enabled_at', 'bigint')
    .addColumn('last_used_step', 'bigint')
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .execute();
  await db.schema
    .createTable('recovery_codes')
    .ifNotExists()
    .addColumn('id', 'integer', idColumn(engine))
    .addColumn('user_id', 'integer', (col) =>
      col.notNull().references('users.id').onDelete('cascade'),
    )
    .addColumn('code_hash', 'text', (col) => col.notNull())
    .addColumn('used_at', 'bigint')
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .execute();
  await db.schema
    .createIndex('recovery_codes_code_hash_key')
    .ifNotExists()
    .on('recovery_codes')
    .column('code_hash')
    .unique()
    .execute();
  await db.schema
    .createIndex('recovery_codes_user_id_idx')
    .ifNotExists()
    .on('recovery_codes')
    .column('user_id')
    .execute();
}

/**
 * The longest SESSION_TTL (366 days): the end given to sessions moved from `users`, whose TTL the
 * migration cannot know; the check against `created_at` + SESSION_TTL ends them on time.
 */
const LONGEST_SESSION_TTL_MS = 366 * 24 * 3600 * 1000;
/** Sessions moved at a time. */
const SESSION_BATCH = 500;

/** The `sessions` table and its indexes (each step can be run again, as on SQLite it may be). */
async function createSessions(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('sessions')
    .ifNotExists()
    .addColumn('id', 'text', (col) => col.primaryKey().notNull())
    .addColumn('user_id', 'integer', (col) =>
      col.notNull().references('users.id').onDelete('cascade'),
    )
    .addColumn('token_digest', 'text', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('last_seen_at', 'bigint', (col) => col.notNull())
    .addColumn('expires_at', 'bigint', (col) => col.notNull())
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('auth_method', 'text', (col) => col.notNull())
    // Bounds written out rather than imported: a migration must not change with today's code.
    .addCheckConstraint('sessions_ip_length', sql`length(ip) <= 64`)
    .addCheckConstraint('sessions_user_agent_length', sql`length(user_agent) <= 512`)
    .execute();
  await db.schema
    .createIndex('sessions_token_digest_key')
    .ifNotExists()
    .on('sessions')
    .column('token_digest')
    .unique()
    .execute();
  // An account's sessions, least recently seen first: what the cap and "end all" read.
  await db.schema
    .createIndex('sessions_user_id_idx')
    .ifNotExists()
    .on('sessions')
    .columns(['user_id', 'last_seen_at'])
    .execute();
}

/** Whether `users` still has column `name`. */
async function usersHasColumn(db: AnyDb, engine: Engine, name: string): Promise<boolean> {
  const { rows } =
    engine === 'postgres'
      ? await sql`SELECT column_name FROM information_schema.columns
          WHERE table_schema = current_schema() AND table_name = 'users'
            AND column_name = ${name}`.execute(db)
      : await sql`SELECT name FROM pragma_table_info('users') WHERE name = ${name}`.execute(db);
  return rows.length > 0;
}

/**
 * Copies every session held in `users` into `sessions` (a copy already there is skipped), then
 * drops the three columns. On SQLite, which runs this outside a transaction, a run
 * cut short is completed by the next one.
 */
async function moveSessionsOutOfUsers(db: AnyDb, engine: Engine): Promise<void> {
  if (await usersHasColumn(db, engine, 'session_id')) {
    for (let after = 0; ;) {
      const batch = (await db
        .selectFrom('users')
        .select(['id', 'session_id', 'session_created_at', 'session_seen_at'])
        .where('session_id', 'is not', null)
        .where('id', '>', after)
        .orderBy('id')
        .limit(SESSION_BATCH)
        .execute()) as {
        id: number;
        session_id: string;
        session_created_at: number | null;
        session_seen_at: number | null;
      }[];
      if (batch.length === 0) break;
      after = batch.at(-1)?.id ?? after;
      const now = Date.now();
      await db
        .insertInto('sessions')
        .values(
          batch.map((user) => {
            const createdAt = user.session_created_at ?? now;
            return {
              id: generateSessionPublicId(),
              user_id: user.id,
              token_digest: user.session_id,
              created_at: createdAt,
              last_seen_at: user.session_seen_at ?? createdAt,
              expires_at: createdAt + LONGEST_SESSION_TTL_MS,
              ip: null,
              user_agent: null,
              auth_method: 'password',
            };
          }),
        )
        .onConflict((conflict) => conflict.column('token_digest').doNothing())
        .execute();
    }
  }
  for (const column of ['session_id', 'session_created_at', 'session_seen_at']) {
    if (await usersHasColumn(db, engine, column)) {
      await db.schema.alterTable('users').dropColumn(column).execute();
    }
  }
}

/**
 * The way back: `users` gets its three columns again, each account keeping its most recently
 * seen session (the others end), and `sessions` is dropped.
 */
async function moveSessionsBackToUsers(db: AnyDb, engine: Engine): Promise<void> {
  for (const [column, type] of [
    ['session_id', 'text'],
    ['session_created_at', 'bigint'],
    ['session_seen_at', 'bigint'],
  ] as const) {
    if (!(await usersHasColumn(db, engine, column))) {
      await db.schema.alterTable('users').addColumn(column, type).execute();
    }
  }
  await sql`UPDATE users SET
      session_id = (SELECT s.token_digest FROM sessions s WHERE s.user_id = users.id
                    ORDER BY s.last_seen_at DESC, s.id LIMIT 1),
      session_created_at = (SELECT s.created_at FROM sessions s WHERE s.user_id = users.id
                    ORDER BY s.last_seen_at DESC, s.id LIMIT 1),
      session_seen_at = (SELECT s.last_seen_at FROM sessions s WHERE s.user_id = users.id
                    ORDER BY s.last_seen_at DESC, s.id LIMIT 1)`.execute(db);
  await db.schema
    .createIndex('users_session_id_key')
    .ifNotExists()
    .on('users')
    .column('session_id')
    .unique()
    .where('session_id', 'is not', null)
    .execute();
  await db.schema.dropTable('sessions').ifExists().execute();
}

/** Rows read and keyed at a time while filling `users.email_key`. */
const EMAIL_KEY_BATCH = 500;
/** Ids listed at most in one report line (the count is always whole). */
const MOST_IDS_REPORTED = 1000;

/**
 * Adds `users.email_key`, fills it from each stored address, and makes it unique. Of accounts
 * whose keys collide, one keeps the key (the first whose address is in today's normal form, or
 * else the oldest); the others keep a null key and are found by their exact address only, which
 * no typed input reaches for an address not in today's normal form (such an account could never
 * log in before either: the log names it for the operator). On
 * SQLite, which runs this outside a transaction, every step can be run again: a run cut short is
 * completed by the next one.
 */
async function addEmailKeys(db: AnyDb, engine: Engine, log: MigrationLog | undefined) {
  if (engine === 'postgres') {
    await sql`ALTER TABLE users ADD COLUMN IF NOT EXISTS email_key text`.execute(db);
  } else {
    const { rows } = await sql<{
      name: string;
    }>`SELECT name FROM pragma_table_info('users') WHERE name = 'email_key'`.execute(db);
    if (rows.length === 0)
      await db.schema.alterTable('users').addColumn('email_key', 'text').execute();
  }
  await db.schema.dropIndex('users_email_key_key').ifExists().execute();

  const notNormal: number[] = [];
  for (let after = 0; ;) {
    const batch = (await db
      .selectFrom('users')
      .select(['id', 'email'])
      .where('id', '>', after)
      .orderBy('id')
      .limit(EMAIL_KEY_BATCH)
      .execute()) as { id: number; email: string }[];
    if (batch.length === 0) break;
    after = batch.at(-1)?.id ?? after;
    const ownKey: number[] = [];
    for (const { id, email } of batch) {
      if (normalizeEmail(email) !== email) notNormal.push(id);
      const key = emailKey(email);
      if (key === email) ownKey.push(id);
      else await db.updateTable('users').set({ email_key: key }).where('id', '=', id).execute();
    }
    if (ownKey.length > 0) {
      await db
        .updateTable('users')
        .set({ email_key: sql`email` })
        .where('id', 'in', ownKey)
        .execute();
    }
  }

  const collisions: { kept: number; others: number[] }[] = [];
  const shared = (await db
    .selectFrom('users')
    .select('email_key')
    .where('email_key', 'is not', null)
    .groupBy('email_key')
    .having(sql`count(*)`, '>', 1)
    .execute()) as { email_key: string }[];
  for (const { email_key: key } of shared) {
    const holders = (await db
      .selectFrom('users')
      .select(['id', 'email'])
      .where('email_key', '=', key)
      .orderBy('id')
      .execute()) as { id: number; email: string }[];
    const kept =
      holders.find((holder) => normalizeEmail(holder.email) === holder.email) ?? holders[0];
    if (kept === undefined) continue;
    const others = holders.filter((holder) => holder !== kept).map((holder) => holder.id);
    await db.updateTable('users').set({ email_key: null }).where('id', 'in', others).execute();
    collisions.push({ kept: kept.id, others });
  }
  await db.schema
    .createIndex('users_email_key_key')
    .ifNotExists()
    .on('users')
    .column('email_key')
    .unique()
    .execute();

  if (notNormal.length > 0) {
    log?.warn(
      { count: notNormal.length, ids: notNormal.slice(0, MOST_IDS_REPORTED) },
      'accounts whose stored email address is not in the normal form of today (left unchanged; they log in by comparison key)',
    );
  }
  if (collisions.length > 0) {
    log?.warn(
      {
        count: collisions.reduce((total, collision) => total + collision.others.length, 0),
        collisions: collisions.slice(0, MOST_IDS_REPORTED),
      },
      'accounts whose email addresses compare equal to another account: look-alikes reach the account listed as kept; each other one logs in with its exact address if it is in normal form, and cannot otherwise (resolve those by hand)',
    );
  }
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
export async function migrateToLatest(
  database: Database,
  options: MigrationOptions = {},
): Promise<MigrationResultSet> {
  const result = await (await migratorFor(database, options)).migrateToLatest();
  if (result.error !== undefined) {
    throw new Error(`Database migration failed: ${describeError(result.error)}`, {
      cause: result.error,
    });
  }
  return result;
}

/** Kysely's migrator over this service's migrations for `database`. */
export async function migratorFor(
  database: Database,
  options: MigrationOptions = {},
): Promise<Migrator> {
  const db = database.kysely as AnyDb;
  // PostgreSQL: keep the bookkeeping tables in the schema the users table goes to (the first of
  // the search path), not wherever another schema of the database happens to have them.
  const schema =
    database.engine === 'postgres'
      ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]
          ?.schema
      : undefined;
  return new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(migrations(database.engine, options)) },
    ...(schema === undefined ? {} : { migrationTableSchema: schema }),
  });
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
