/**
 * Versioned schema migrations, kept in code so the built service needs no migration files on disk.
 * They run at every start (a no-op when current) and through `npm run migrate`. Never edit a
 * migration that has shipped: add the next one.
 */
import { Migrator, sql, type Migration, type MigrationResultSet } from 'kysely';
import { describeError } from '../describe-error.js';
import type { Database, Engine } from './connection.js';
import { usersMigration } from './migrations/0001-users.js';
import { throttlesMigration } from './migrations/0002-throttles.js';
import { auditEventsMigration } from './migrations/0003-audit-events.js';
import { partialTokenIndexesMigration } from './migrations/0004-partial-token-indexes.js';
import { emailKeysMigration } from './migrations/0005-email-keys.js';
import { sessionsMigration } from './migrations/0006-sessions.js';
import { auditSessionDetailsMigration } from './migrations/0007-audit-session-details.js';
import { twoFactorMigration } from './migrations/0008-two-factor.js';
import { loginChallengesMigration } from './migrations/0009-login-challenges.js';
import { auditAuthMethodMigration } from './migrations/0010-audit-auth-method.js';
import { emailVerificationMigration } from './migrations/0011-email-verification.js';
import { auditNewEmailMigration } from './migrations/0012-audit-new-email.js';
import { passkeysMigration } from './migrations/0013-passkeys.js';
import { webauthnChallengesMigration } from './migrations/0014-webauthn-challenges.js';
import type { AnyDb, MigrationLog } from './migrations/shared.js';

export type { MigrationLog } from './migrations/shared.js';

export interface MigrationOptions {
  /** Reports of migrations that found something to look at; none when absent. */
  readonly log?: MigrationLog;
}

/**
 * The migrations, in order, one file each under `migrations/`. The schema is the same on both
 * engines but for how ids are generated: neither ever reuses the id of a deleted user.
 */
export function migrations(
  engine: Engine,
  options: MigrationOptions = {},
): Record<string, Migration> {
  return {
    '0001_users': usersMigration(engine),
    '0002_throttles': throttlesMigration(),
    '0003_audit_events': auditEventsMigration(engine),
    '0004_partial_token_indexes': partialTokenIndexesMigration(),
    '0005_email_keys': emailKeysMigration(engine, options.log),
    '0006_sessions': sessionsMigration(engine),
    '0007_audit_session_details': auditSessionDetailsMigration(),
    '0008_two_factor': twoFactorMigration(engine),
    '0009_login_challenges': loginChallengesMigration(),
    '0010_audit_auth_method': auditAuthMethodMigration(),
    '0011_email_verification': emailVerificationMigration(),
    '0012_audit_new_email': auditNewEmailMigration(),
    '0013_passkeys': passkeysMigration(),
    '0014_webauthn_challenges': webauthnChallengesMigration(),
  };
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
  const migrator = await migratorFor(database, options);
  const result = await withFastCommitsIfEmpty(database, () => migrator.migrateToLatest());
  if (result.error !== undefined) {
    throw new Error(`Database migration failed: ${describeError(result.error)}`, {
      cause: result.error,
    });
  }
  return result;
}

/**
 * Runs `migrate` with SQLite's commits unsynced when the database is empty (a first start), then
 * syncs everything once: the dozens of commits of the first migration otherwise wait for the disk
 * one by one. Only an operating-system crash or power loss during that first migration could harm
 * the file, and it held nothing yet. The closing checkpoint, with commits synced again, writes the
 * whole schema to the database file and syncs it before the service answers anything.
 */
async function withFastCommitsIfEmpty<T>(database: Database, migrate: () => Promise<T>) {
  const sqlite = database.sqlite;
  const empty =
    sqlite !== undefined &&
    sqlite.prepare('SELECT count(*) FROM sqlite_schema').pluck().get() === 0;
  if (!empty) return migrate();
  const synchronous = sqlite.pragma('synchronous', { simple: true }) as number;
  sqlite.pragma('synchronous = OFF');
  try {
    return await migrate();
  } finally {
    sqlite.pragma(`synchronous = ${synchronous}`);
    sqlite.pragma('wal_checkpoint(TRUNCATE)');
  }
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
