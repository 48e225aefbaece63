/**
 * Session events name their session and why it ended.
 */
import type { Migration } from 'kysely';
import type { AnyDb } from './shared.js';

/** Migration `0007_audit_session_details`. */
export function auditSessionDetailsMigration(): Migration {
  return {
    // Session events name the session (its public id) and, when one ends, why.
    async up(db: AnyDb) {
      await db.schema.alterTable('audit_events').addColumn('session_id', 'text').execute();
      await db.schema.alterTable('audit_events').addColumn('reason', 'text').execute();
    },
    async down(db: AnyDb) {
      await db.schema.alterTable('audit_events').dropColumn('reason').execute();
      await db.schema.alterTable('audit_events').dropColumn('session_id').execute();
    },
  };
}
