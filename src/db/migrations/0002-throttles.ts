/**
 * Counters for abuse protection, one row per (kind, subject).
 */
import type { Migration } from 'kysely';
import type { AnyDb } from './shared.js';

/** Migration `0002_throttles`. */
export function throttlesMigration(): Migration {
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('throttles')
        .addColumn('kind', 'text', (col) => col.notNull())
        .addColumn('subject', 'text', (col) => col.notNull())
        .addColumn('count', 'integer', (col) => col.notNull())
        .addColumn('window_started_at', 'bigint', (col) => col.notNull())
        .addColumn('blocked_until', 'bigint')
        .addPrimaryKeyConstraint('throttles_pkey', ['kind', 'subject'])
        .execute();
      await db.schema
        .createIndex('throttles_window_started_at_idx')
        .on('throttles')
        .column('window_started_at')
        .execute();
    },
    async down(db: AnyDb) {
      await db.schema.dropTable('throttles').execute();
    },
  };
}
