/**
 * The `email_tokens` table, the one home of its rows: links mailed to prove an address (email
 * verification) or a new one (an address change). Tokens are stored only as digests. Using one is
 * a single statement, so of concurrent uses of one token exactly one gets its row, on SQLite and
 * PostgreSQL alike.
 */
import type { Kysely } from 'kysely';
import { run } from './errors.js';
import type { EmailTokenPurpose, EmailTokenRow, Schema } from './schema.js';

export class EmailTokens {
  constructor(private readonly kysely: Kysely<Schema>) {}

  /** Stores a new token. */
  async create(token: {
    tokenDigest: string;
    userId: number;
    purpose: EmailTokenPurpose;
    email: string;
    sessionId?: string | null;
    now: number;
    expiresAt: number;
  }): Promise<void> {
    await run(() =>
      this.kysely
        .insertInto('email_tokens')
        .values({
          token_digest: token.tokenDigest,
          user_id: token.userId,
          purpose: token.purpose,
          email: token.email,
          session_id: token.sessionId ?? null,
          created_at: token.now,
          expires_at: token.expiresAt,
          used_at: null,
        })
        .execute(),
    );
  }

  /**
   * Marks the token `tokenDigest` of `purpose` used, in one statement, if it is unused and live
   * at `now`; returns its row (once), or undefined when it is unknown, used or expired.
   */
  async use(
    tokenDigest: string,
    purpose: EmailTokenPurpose,
    now: number,
  ): Promise<EmailTokenRow | undefined> {
    return run(() =>
      this.kysely
        .updateTable('email_tokens')
        .set({ used_at: now })
        .where('token_digest', '=', tokenDigest)
        .where('purpose', '=', purpose)
        .where('used_at', 'is', null)
        .where('expires_at', '>', now)
        .returningAll()
        .executeTakeFirst(),
    );
  }

  /** Removes the tokens of account `userId` (of `purpose` only, when given). */
  async deleteAllOf(userId: number, purpose?: EmailTokenPurpose): Promise<void> {
    let query = this.kysely.deleteFrom('email_tokens').where('user_id', '=', userId);
    if (purpose !== undefined) query = query.where('purpose', '=', purpose);
    await run(() => query.execute());
  }

  /** Removes the tokens expired at `now`. */
  async purge(now: number): Promise<void> {
    await run(() =>
      this.kysely.deleteFrom('email_tokens').where('expires_at', '<=', now).execute(),
    );
  }
}
