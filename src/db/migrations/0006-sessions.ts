/**
 * Sessions move out of `users` into a table of their own, several per account.
 */
import { sql, type Migration } from 'kysely';
import { generateSessionPublicId } from '../../auth/tokens.js';
import type { Engine } from '../connection.js';
import type { AnyDb } from './shared.js';

/** Migration `0006_sessions`. */
export function sessionsMigration(engine: Engine): Migration {
  return {
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
  };
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
