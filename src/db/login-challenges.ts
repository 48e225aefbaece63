/**
 * The `login_challenges` table, the one home of its rows: a login waiting for its second factor.
 * Each operation is one statement, so the database decides between concurrent requests on SQLite
 * and PostgreSQL alike: no number of parallel codes gets more tries at a challenge than its
 * bound, and of any number of concurrent successes only one takes the challenge.
 */
import type { Kysely } from 'kysely';
import { run } from './errors.js';
import type { Schema } from './schema.js';

export class LoginChallenges {
  constructor(private readonly kysely: Kysely<Schema>) {}

  /** Stores a new challenge for account `userId` under `tokenDigest`, with no attempt yet. */
  async create(challenge: {
    tokenDigest: string;
    userId: number;
    now: number;
    expiresAt: number;
  }): Promise<void> {
    await run(() =>
      this.kysely
        .insertInto('login_challenges')
        .values({
          token_digest: challenge.tokenDigest,
          user_id: challenge.userId,
          created_at: challenge.now,
          expires_at: challenge.expiresAt,
          attempts: 0,
        })
        .execute(),
    );
  }

  /**
   * Counts one attempt at the challenge `tokenDigest`, in one statement, if it is still live at
   * `now` and has had fewer than `most` attempts: returns its account and the attempts counted
   * with this one; undefined (nothing counted) when it is unknown, expired or spent.
   */
  async spendAttempt(
    tokenDigest: string,
    options: { now: number; most: number },
  ): Promise<{ userId: number; attempts: number } | undefined> {
    const row = await run(() =>
      this.kysely
        .updateTable('login_challenges')
        .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
        .where('token_digest', '=', tokenDigest)
        .where('expires_at', '>', options.now)
        .where('attempts', '<', options.most)
        .returning(['user_id', 'attempts'])
        .executeTakeFirst(),
    );
    return row === undefined ? undefined : { userId: row.user_id, attempts: row.attempts };
  }

  /** Removes the challenge `tokenDigest`; returns whether it was there (true once). */
  async delete(tokenDigest: string): Promise<boolean> {
    const result = await run(() =>
      this.kysely
        .deleteFrom('login_challenges')
        .where('token_digest', '=', tokenDigest)
        .executeTakeFirst(),
    );
    return result.numDeletedRows === 1n;
  }

  /** Removes every challenge of account `userId` (its password changed, say). */
  async deleteAllOf(userId: number): Promise<void> {
    await run(() =>
      this.kysely.deleteFrom('login_challenges').where('user_id', '=', userId).execute(),
    );
  }

  /** Removes the challenges expired at `now`. */
  async purge(now: number): Promise<void> {
    await run(() =>
      this.kysely.deleteFrom('login_challenges').where('expires_at', '<=', now).execute(),
    );
  }
}
