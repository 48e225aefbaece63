/**
 * Passkeys: an account's WebAuthn credentials, each with its public key and signature counter.
 */
import type { Migration } from 'kysely';
import type { AnyDb } from './shared.js';

/** Migration `0013_passkeys`. */
export function passkeysMigration(): Migration {
  return {
    // One row per credential, named by a random public id; the credential id (base64url, as the
    // authenticator gave it) is unique across accounts. The rows go with their account.
    async up(db: AnyDb) {
      await db.schema
        .createTable('passkeys')
        .ifNotExists()
        .addColumn('id', 'text', (col) => col.primaryKey().notNull())
        .addColumn('user_id', 'integer', (col) =>
          col.notNull().references('users.id').onDelete('cascade'),
        )
        .addColumn('credential_id', 'text', (col) => col.notNull())
        .addColumn('public_key', 'text', (col) => col.notNull())
        .addColumn('counter', 'bigint', (col) => col.notNull().defaultTo(0))
        .addColumn('transports', 'text', (col) => col.notNull().defaultTo(''))
        .addColumn('device_type', 'text', (col) => col.notNull())
        .addColumn('backed_up', 'integer', (col) => col.notNull().defaultTo(0))
        .addColumn('aaguid', 'text', (col) => col.notNull())
        .addColumn('name', 'text', (col) => col.notNull())
        .addColumn('created_at', 'bigint', (col) => col.notNull())
        .addColumn('last_used_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('passkeys_credential_id_key')
        .ifNotExists()
        .on('passkeys')
        .column('credential_id')
        .unique()
        .execute();
      await db.schema
        .createIndex('passkeys_user_id_idx')
        .ifNotExists()
        .on('passkeys')
        .column('user_id')
        .execute();
    },
    async down(db: AnyDb) {
      await db.schema.dropTable('passkeys').ifExists().execute();
    },
  };
}
