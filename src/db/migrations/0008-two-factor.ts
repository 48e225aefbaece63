/**
 * Second factors: the authenticator-app secret (sealed) and recovery codes (keyed hashes).
 */
import type { Migration } from 'kysely';
import type { Engine } from '../connection.js';
import { idColumn, type AnyDb } from './shared.js';

/** Migration `0008_two_factor`. */
export function twoFactorMigration(engine: Engine): Migration {
  return {
    // The authenticator-app factor (its secret sealed, never in the clear) and recovery codes
    // (keyed hashes only); both go with their account.
    async up(db: AnyDb) {
      await createTwoFactor(db, engine);
    },
    async down(db: AnyDb) {
      await db.schema.dropTable('recovery_codes').ifExists().execute();
      await db.schema.dropTable('two_factor').ifExists().execute();
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
