/**
 * Login events say how the session was made.
 */
import type { Migration } from 'kysely';
import type { AnyDb } from './shared.js';

/** Migration `0010_audit_auth_method`. */
export function auditAuthMethodMigration(): Migration {
  return {
    // A successful login records how its session was authenticated: the password alone, or
    // with which second factor. Earlier events have none.
    async up(db: AnyDb) {
      await db.schema.alterTable('audit_events').addColumn('auth_method', 'text').execute();
    },
    async down(db: AnyDb) {
      await db.schema.alterTable('audit_events').dropColumn('auth_method').execute();
    },
  };
}
