/**
 * Login challenges: a login whose password was right, waiting for its second factor.
 */
import type { Migration } from 'kysely';
import type { AnyDb } from './shared.js';

/** Migration `0009_login_challenges`. */
export function loginChallengesMigration(): Migration {
  return {
    // One row per challenge, under the digest of the token the client holds (never the token),
    // with its wrong codes counted; it goes with its account.
    async up(db: AnyDb) {
      await db.schema
        .createTable('login_challenges')
        .ifNotExists()
        .addColumn('token_digest', 'text', (col) => col.primaryKey().notNull())
        .addColumn('user_id', 'integer', (col) =>
          col.notNull().references('users.id').onDelete('cascade'),
        )
        .addColumn('created_at', 'bigint', (col) => col.notNull())
        .addColumn('expires_at', 'bigint', (col) => col.notNull())
        .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
        .execute();
      // What the purge of expired challenges reads; the account's challenges, for its deletion.
      await db.schema
        .createIndex('login_challenges_expires_at_idx')
        .ifNotExists()
        .on('login_challenges')
        .column('expires_at')
        .execute();
      await db.schema
        .createIndex('login_challenges_user_id_idx')
        .ifNotExists()
        .on('login_challenges')
        .column('user_id')
        .execute();
    },
    async down(db: AnyDb) {
      await db.schema.dropTable('login_challenges').ifExists().execute();
    },
  };
}
