/**
 * The `throttles` table: counters that every instance shares through the database. Each counter
 * belongs to a (kind, subject) pair and counts within a window that restarts when it has run out.
 * Counting is one atomic upsert, so concurrent hits are all counted, on SQLite and PostgreSQL.
 */
import { sql, type Kysely } from 'kysely';
import { run } from './errors.js';
import type { Schema, Throttle } from './schema.js';

export class Throttles {
  constructor(private readonly kysely: Kysely<Schema>) {}

  /** The counter, if any. */
  async get(kind: string, subject: string): Promise<Throttle | undefined> {
    return run(() =>
      this.kysely
        .selectFrom('throttles')
        .selectAll()
        .where('kind', '=', kind)
        .where('subject', '=', subject)
        .executeTakeFirst(),
    );
  }

  /**
   * Adds one to the counter and returns it; a counter whose window began `windowMs` or more
   * before `now` starts over at one (and forgets its block).
   */
  async hit(kind: string, subject: string, now: number, windowMs: number): Promise<Throttle> {
    const expired = sql<boolean>`throttles.window_started_at <= ${now - windowMs}`;
    return run(() =>
      this.kysely
        .insertInto('throttles')
        .values({ kind, subject, count: 1, window_started_at: now, blocked_until: null })
        .onConflict((conflict) =>
          conflict.columns(['kind', 'subject']).doUpdateSet({
            count: sql`CASE WHEN ${expired} THEN 1 ELSE throttles.count + 1 END`,
            window_started_at: sql`CASE WHEN ${expired} THEN ${now} ELSE throttles.window_started_at END`,
            blocked_until: sql`CASE WHEN ${expired} THEN NULL ELSE throttles.blocked_until END`,
          }),
        )
        .returningAll()
        .executeTakeFirstOrThrow(),
    );
  }

  /** Blocks the subject until `until`, unless it is already blocked for longer. */
  async blockUntil(kind: string, subject: string, until: number): Promise<void> {
    await run(() =>
      this.kysely
        .updateTable('throttles')
        .set({
          blocked_until: sql`CASE WHEN blocked_until IS NULL OR blocked_until < ${until} THEN ${until} ELSE blocked_until END`,
        })
        .where('kind', '=', kind)
        .where('subject', '=', subject)
        .execute(),
    );
  }

  /** Forgets the counter. */
  async clear(kind: string, subject: string): Promise<void> {
    await run(() =>
      this.kysely
        .deleteFrom('throttles')
        .where('kind', '=', kind)
        .where('subject', '=', subject)
        .execute(),
    );
  }

  /** Deletes counters whose window began before `before` and that block nothing after `now`. */
  async purge(before: number, now: number): Promise<void> {
    await run(() =>
      this.kysely
        .deleteFrom('throttles')
        .where('window_started_at', '<', before)
        .where((eb) => eb.or([eb('blocked_until', 'is', null), eb('blocked_until', '<', now)]))
        .execute(),
    );
  }
}
