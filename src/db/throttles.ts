/**
 * The `throttles` table: counters that every instance shares through the database. Each counter
 * belongs to a (kind, subject) pair and counts within a window that restarts when it has run out.
 * Counting is one atomic upsert, so concurrent hits are all counted, on SQLite and PostgreSQL.
 * {@link Throttles.attempt} also decides, in that same statement, whether an attempt may proceed,
 * so no number of concurrent attempts gets past a block.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
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

  /**
   * Counts one attempt at (kind, subject) and decides whether it may proceed, in one atomic
   * statement. An attempt is refused, and not counted, while the subject is blocked; otherwise it
   * is counted, and the attempt that brings the count to `freeAttempts`, and each one after it,
   * blocks the subject for a while: 1 s, then doubling with each attempt up to `maxDelayMs`. A
   * window that began `windowMs` or more before `now` starts over. Returns the wait left when
   * refused (read after the decision, for Retry-After only).
   */
  async attempt(
    kind: string,
    subject: string,
    policy: {
      readonly now: number;
      readonly windowMs: number;
      readonly freeAttempts: number;
      readonly maxDelayMs: number;
    },
  ): Promise<{ allowed: true } | { allowed: false; retryAfterMs: number }> {
    const { now, windowMs } = policy;
    const expired = sql<boolean>`throttles.window_started_at <= ${now - windowMs}`;
    const count = sql<number>`CASE WHEN ${expired} THEN 1 ELSE throttles.count + 1 END`;
    const counted = await run(() =>
      this.kysely
        .insertInto('throttles')
        .values({
          kind,
          subject,
          count: 1,
          window_started_at: now,
          blocked_until: blockedUntil(sql`1`, policy),
        })
        .onConflict((conflict) =>
          conflict
            .columns(['kind', 'subject'])
            .doUpdateSet({
              count,
              window_started_at: sql`CASE WHEN ${expired} THEN ${now} ELSE throttles.window_started_at END`,
              blocked_until: blockedUntil(count, policy),
            })
            // The decision: a blocked subject's row is left as it is, and nothing is returned.
            .where((eb) =>
              eb.or([
                eb('throttles.blocked_until', 'is', null),
                eb('throttles.blocked_until', '<=', now),
                eb('throttles.window_started_at', '<=', now - windowMs),
              ]),
            ),
        )
        .returning('count')
        .executeTakeFirst(),
    );
    if (counted !== undefined) return { allowed: true };
    // Refused: how long is left is only for the answer's Retry-After.
    const blocked = (await this.get(kind, subject))?.blocked_until ?? now;
    return { allowed: false, retryAfterMs: Math.max(blocked - now, 1) };
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

/**
 * The end of the block that the `count`th attempt of a window starts: none before
 * `freeAttempts`, then 1 s doubling with each attempt, capped at `maxDelayMs`. Built as one SQL
 * expression that reads the same on SQLite and PostgreSQL (no POWER or LEAST on SQLite).
 */
function blockedUntil(
  count: RawBuilder<number>,
  policy: { readonly now: number; readonly freeAttempts: number; readonly maxDelayMs: number },
): RawBuilder<number | null> {
  const { now, freeAttempts, maxDelayMs } = policy;
  // The doublings after which the cap is reached: 2^k seconds >= maxDelayMs.
  let cappedAfter = 0;
  while (1000 * 2 ** cappedAfter < maxDelayMs) cappedAfter += 1;
  const beyond = sql<number>`(${count} - ${freeAttempts})`;
  return sql<number | null>`CASE
    WHEN ${count} < ${freeAttempts} THEN NULL
    WHEN ${beyond} >= ${cappedAfter} THEN ${now + maxDelayMs}
    ELSE ${now} + 1000 * (CAST(1 AS BIGINT) << CAST(${beyond} AS INTEGER)) END`;
}
