/**
 * The `passkeys` and `webauthn_challenges` tables, the one home of their rows. A challenge is
 * taken (deleted) in the same statement that finds it live, so of concurrent uses of one, exactly
 * one gets it; a counter moves forward only from the value just checked (compare-and-set).
 */
import type { Kysely } from 'kysely';
import { run } from './errors.js';
import type { PasskeyRow, Schema } from './schema.js';

/** What a ceremony's challenge is for. */
export type ChallengePurpose = 'register' | 'login';

export class PasskeyStore {
  constructor(private readonly kysely: Kysely<Schema>) {}

  /** Stores a new passkey; a credential id stored already throws {@link UniqueViolationError}. */
  async add(row: PasskeyRow): Promise<void> {
    await run(() => this.kysely.insertInto('passkeys').values(row).execute());
  }

  /** The passkeys of account `userId`, oldest first. */
  async listOf(userId: number): Promise<PasskeyRow[]> {
    return run(() =>
      this.kysely
        .selectFrom('passkeys')
        .selectAll()
        .where('user_id', '=', userId)
        .orderBy('created_at')
        .orderBy('id')
        .execute(),
    );
  }

  /** How many passkeys account `userId` has. */
  async countOf(userId: number): Promise<number> {
    const row = await run(() =>
      this.kysely
        .selectFrom('passkeys')
        .select((eb) => eb.fn.countAll<number | string | bigint>().as('count'))
        .where('user_id', '=', userId)
        .executeTakeFirstOrThrow(),
    );
    return Number(row.count);
  }

  /** The passkey of credential id `credentialId`, whoever's it is. */
  async findByCredentialId(credentialId: string): Promise<PasskeyRow | undefined> {
    return run(() =>
      this.kysely
        .selectFrom('passkeys')
        .selectAll()
        .where('credential_id', '=', credentialId)
        .executeTakeFirst(),
    );
  }

  /**
   * Records a use of passkey `id`: its counter becomes `to` and `last_used_at` `now`, only while
   * its counter is still `from` (the value checked); returns whether it did.
   */
  async recordUse(id: string, counters: { from: number; to: number }, now: number) {
    const result = await run(() =>
      this.kysely
        .updateTable('passkeys')
        .set({ counter: counters.to, last_used_at: now })
        .where('id', '=', id)
        .where('counter', '=', counters.from)
        .executeTakeFirst(),
    );
    return result.numUpdatedRows === 1n;
  }

  /** Deletes passkey `id` of account `userId`; returns it, or undefined when it is not theirs. */
  async deleteOneOf(userId: number, id: string): Promise<PasskeyRow | undefined> {
    return run(() =>
      this.kysely
        .deleteFrom('passkeys')
        .where('user_id', '=', userId)
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst(),
    );
  }

  /** Deletes every passkey of account `userId`; returns how many there were. */
  async deleteAllOf(userId: number): Promise<number> {
    const rows = await run(() =>
      this.kysely.deleteFrom('passkeys').where('user_id', '=', userId).returning('id').execute(),
    );
    return rows.length;
  }

  /** Stores a challenge by its digest. */
  async addChallenge(challenge: {
    digest: string;
    purpose: ChallengePurpose;
    userId: number | null;
    now: number;
    expiresAt: number;
  }): Promise<void> {
    await run(() =>
      this.kysely
        .insertInto('webauthn_challenges')
        .values({
          challenge_digest: challenge.digest,
          purpose: challenge.purpose,
          user_id: challenge.userId,
          created_at: challenge.now,
          expires_at: challenge.expiresAt,
        })
        .execute(),
    );
  }

  /**
   * Takes the challenge of digest `digest` for `purpose`, if it is live at `now`, in one
   * statement: it is deleted, so it works once. Returns the account it names (null for a login),
   * or undefined when it is unknown, used, expired or for another purpose.
   */
  async takeChallenge(
    digest: string,
    purpose: ChallengePurpose,
    now: number,
  ): Promise<{ userId: number | null } | undefined> {
    const row = await run(() =>
      this.kysely
        .deleteFrom('webauthn_challenges')
        .where('challenge_digest', '=', digest)
        .where('purpose', '=', purpose)
        .where('expires_at', '>', now)
        .returning('user_id')
        .executeTakeFirst(),
    );
    return row === undefined ? undefined : { userId: row.user_id };
  }

  /** Deletes the challenges expired at `now`. */
  async purgeChallenges(now: number): Promise<void> {
    await run(() =>
      this.kysely.deleteFrom('webauthn_challenges').where('expires_at', '<=', now).execute(),
    );
  }
}
