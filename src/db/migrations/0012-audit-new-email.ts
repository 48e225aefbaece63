/**
 * Address changes are audited with both addresses.
 */
import type { Migration } from 'kysely';
import type { AnyDb } from './shared.js';

/** Migration `0012_audit_new_email`. */
export function auditNewEmailMigration(): Migration {
  return {
    // `email` holds the account's address at the time (the old one); this, the address asked
    // for (email_change_requested) or taken on (email_changed). Earlier events have none.
    async up(db: AnyDb) {
      await db.schema.alterTable('audit_events').addColumn('new_email', 'text').execute();
    },
    async down(db: AnyDb) {
      await db.schema.alterTable('audit_events').dropColumn('new_email').execute();
    },
  };
}
