/**
 * Proven addresses: when an account's address was verified, and the links mailed to prove one.
 */
import { sql, type Migration } from 'kysely';
import type { AnyDb } from './shared.js';

/** Migration `0011_email_verification`. */
export function emailVerificationMigration(): Migration {
  return {
    // Accounts that exist at this migration keep an unproven address (email_verified_at null):
    // nothing was ever mailed to them. With EMAIL_VERIFICATION=optional (the default) that
    // changes nothing for them; before turning `required` on, an operator verifies them
    // (`bienvenue users verify`) or lets them ask for a link from the login page.
    async up(db: AnyDb) {
      await db.schema.alterTable('users').addColumn('email_verified_at', 'bigint').execute();
      // Whether the outstanding reset token went out by email (then completing it proves the
      // address); tokens outstanding now are counted as not emailed.
      await db.schema
        .alterTable('users')
        .addColumn('reset_token_emailed', 'integer', (col) => col.notNull().defaultTo(0))
        .execute();
      // One row per link, under the digest of its token (never the token), with the address it
      // was sent to; it goes with its account.
      await db.schema
        .createTable('email_tokens')
        .ifNotExists()
        .addColumn('token_digest', 'text', (col) => col.primaryKey().notNull())
        .addColumn('user_id', 'integer', (col) =>
          col.notNull().references('users.id').onDelete('cascade'),
        )
        .addColumn('purpose', 'text', (col) => col.notNull().check(sqlPurpose()))
        .addColumn('email', 'text', (col) => col.notNull())
        .addColumn('session_id', 'text')
        .addColumn('created_at', 'bigint', (col) => col.notNull())
        .addColumn('expires_at', 'bigint', (col) => col.notNull())
        .addColumn('used_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('email_tokens_user_id_idx')
        .ifNotExists()
        .on('email_tokens')
        .column('user_id')
        .execute();
      await db.schema
        .createIndex('email_tokens_expires_at_idx')
        .ifNotExists()
        .on('email_tokens')
        .column('expires_at')
        .execute();
    },
    async down(db: AnyDb) {
      await db.schema.dropTable('email_tokens').ifExists().execute();
      await db.schema.alterTable('users').dropColumn('reset_token_emailed').execute();
      await db.schema.alterTable('users').dropColumn('email_verified_at').execute();
    },
  };
}

function sqlPurpose() {
  return sql`purpose IN ('verify', 'change')`;
}
