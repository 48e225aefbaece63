/**
 * The audit trail.
 */
import type { Migration } from 'kysely';
import type { Engine } from '../connection.js';
import { idColumn, type AnyDb } from './shared.js';

/** Migration `0003_audit_events`. */
export function auditEventsMigration(engine: Engine): Migration {
  return {
    async up(db: AnyDb) {
      // No foreign key to users: the trail of a deleted account is kept.
      await db.schema
        .createTable('audit_events')
        .addColumn('id', 'integer', idColumn(engine))
        .addColumn('at', 'bigint', (col) => col.notNull())
        .addColumn('type', 'text', (col) => col.notNull())
        .addColumn('user_id', 'integer')
        .addColumn('email', 'text')
        .addColumn('ip', 'text')
        .addColumn('user_agent', 'text')
        .execute();
      await db.schema.createIndex('audit_events_at_idx').on('audit_events').column('at').execute();
      await db.schema
        .createIndex('audit_events_user_id_idx')
        .on('audit_events')
        .columns(['user_id', 'at'])
        .execute();
    },
    async down(db: AnyDb) {
      await db.schema.dropTable('audit_events').execute();
    },
  };
}
