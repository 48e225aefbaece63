/**
 * The `users` table as the course made it, sessions and reset tokens as its columns.
 */
import type { Migration } from 'kysely';
import type { Engine } from '../connection.js';
import { idColumn, type AnyDb } from './shared.js';

/** Migration `0001_users`. */
export function usersMigration(engine: Engine): Migration {
  return {
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
  };
}
