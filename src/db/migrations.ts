/**
 * Versioned schema migrations, kept in code so the built service needs no migration files on disk.
 * They run at every start (a no-op when current) and through `npm run migrate`. Never edit a
 * migration that has shipped: add the next one.
 */
import { Migrator, type Kysely, type Migration, type MigrationResultSet } from 'kysely';

// Kysely's migration API takes an untyped handle: a migration must not depend on today's schema.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

export const MIGRATIONS: Record<string, Migration> = {
  '0001_users': {
    async up(db: AnyDb) {
      await db.schema
        .createTable('users')
        .addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
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
      await db.schema.createIndex('users_email_key').on('users').column('email').unique().execute();
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
};

/** Applies every pending migration; throws if one fails (the failed one is rolled back). */
export async function migrateToLatest(db: AnyDb): Promise<MigrationResultSet> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(MIGRATIONS) },
  });
  const result = await migrator.migrateToLatest();
  if (result.error !== undefined) {
    throw new Error('Database migration failed', { cause: result.error });
  }
  return result;
}
