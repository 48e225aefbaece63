/**
 * WebAuthn challenges: each passkey ceremony's challenge, usable once, for a few minutes.
 */
import type { Migration } from 'kysely';
import type { AnyDb } from './shared.js';

/** Migration `0014_webauthn_challenges`. */
export function webauthnChallengesMigration(): Migration {
  return {
    // Stored under the challenge's SHA-256 digest, never the challenge; a registration's names
    // its account (and goes with it), a login's names none.
    async up(db: AnyDb) {
      await db.schema
        .createTable('webauthn_challenges')
        .ifNotExists()
        .addColumn('challenge_digest', 'text', (col) => col.primaryKey().notNull())
        .addColumn('purpose', 'text', (col) => col.notNull())
        .addColumn('user_id', 'integer', (col) => col.references('users.id').onDelete('cascade'))
        .addColumn('created_at', 'bigint', (col) => col.notNull())
        .addColumn('expires_at', 'bigint', (col) => col.notNull())
        .execute();
      await db.schema
        .createIndex('webauthn_challenges_expires_at_idx')
        .ifNotExists()
        .on('webauthn_challenges')
        .column('expires_at')
        .execute();
      await db.schema
        .createIndex('webauthn_challenges_user_id_idx')
        .ifNotExists()
        .on('webauthn_challenges')
        .column('user_id')
        .execute();
    },
    async down(db: AnyDb) {
      await db.schema.dropTable('webauthn_challenges').ifExists().execute();
    },
  };
}
