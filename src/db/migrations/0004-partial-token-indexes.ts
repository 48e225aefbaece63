/**
 * Token indexes that cover only the rows holding a token.
 */
import type { Migration } from 'kysely';
import type { AnyDb } from './shared.js';

/** Migration `0004_partial_token_indexes`. */
export function partialTokenIndexesMigration(): Migration {
  return {
    // Only live sessions and outstanding reset tokens are indexed, not the NULL of every other
    // account: the index a session check reads stays as small as the number of sessions.
    async up(db: AnyDb) {
      await rebuildTokenIndexes(db, { partial: true });
    },
    async down(db: AnyDb) {
      await rebuildTokenIndexes(db, { partial: false });
    },
  };
}

/**
 * Recreates the unique indexes on `users.session_id` and `users.reset_token`, covering only the
 * rows that have one when `partial`. SQLite runs a migration's statements outside a transaction:
 * each step is written so that a run cut short is completed by the next one.
 */
async function rebuildTokenIndexes(db: AnyDb, options: { partial: boolean }): Promise<void> {
  for (const column of ['session_id', 'reset_token'] as const) {
    await db.schema.dropIndex(`users_${column}_key`).ifExists().execute();
    const index = db.schema
      .createIndex(`users_${column}_key`)
      .ifNotExists()
      .on('users')
      .column(column)
      .unique();
    await (options.partial ? index.where(column, 'is not', null) : index).execute();
  }
}
