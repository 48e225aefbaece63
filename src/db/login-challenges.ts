/**
 * The `login_challenges` table, the one home of its rows: a login waiting for its second factor.
 * Each operation is one statement, so the database decides between concurrent requests on SQLite
 * and PostgreSQL alike: no number of parallel codes gets more tries at a challenge than its
 * bound, and of any number of concurrent successes only one takes the challenge.
 */
import { sql, type Kysely } from 'kysely';
import { run } from './errors.js';
import type { Schema } from './schema.js';

/** The attempts a claimed challenge counts: more than any bound, so it takes no more codes. */
const CLAIMED = 1_000_000;

export class LoginChallenges {
  constructor(private readonly kysely: Kysely<Schema>) {}

  /**
   * Stores a new challenge for account `userId` under `tokenDigest`, with no attempt yet, in one
   * statement and only while the account holds password hash `whilePasswordIs` (the one just
   * verified): a reset or change completed meanwhile must not be outlived by a challenge opened
   * with the old password. Returns whether it did.
   */
  async create(challenge: {
    tokenDigest: string;
    userId: number;
    now: number;
    expiresAt: number;
    whilePasswordIs: string;
  }): Promise<boolean> {
    const result = await run(() =>
      this.kysely
        .insertInto('login_challenges')
        .columns(['token_digest', 'user_id', 'created_at', 'expires_at', 'attempts'])
        .expression((eb) =>
          eb
            .selectFrom('users')
            .select([
              sql<string>`CAST(${challenge.tokenDigest} AS text)`.as('token_digest'),
              'users.id as user_id',
              sql<number>`CAST(${challenge.now} AS bigint)`.as('created_at'),
              sql<number>`CAST(${challenge.expiresAt} AS bigint)`.as('expires_at'),
              sql<number>`CAST(0 AS integer)`.as('attempts'),
            ])
            .where('users.id', '=', challenge.userId)
            .where('users.hashed_password', '=', challenge.whilePasswordIs),
        )
        .executeTakeFirst(),
    );
    return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
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

  /**
   * Claims the challenge `tokenDigest` for the one session it may open: in one statement, it
   * takes no attempt from then on. Returns whether this call claimed it (true once); the claimed
   * row stays until {@link delete}, so that the session is opened only while it is there.
   */
  async claim(tokenDigest: string): Promise<boolean> {
    const result = await run(() =>
      this.kysely
        .updateTable('login_challenges')
        .set({ attempts: CLAIMED })
        .where('token_digest', '=', tokenDigest)
        .where('attempts', '<', CLAIMED)
        .executeTakeFirst(),
    );
    return result.numUpdatedRows === 1n;
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

  /**
   * Removes every challenge of account `userId`, claimed ones included: its password changed,
   * or its second factor was turned off or reset.
   */
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
