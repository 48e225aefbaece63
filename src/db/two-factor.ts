/**
 * The `two_factor` and `recovery_codes` tables, the one home of their rows. Operations are named
 * for what they mean: begin an enrolment, enable it with its first codes, use a time step, use a
 * recovery code, replace the codes, disable. The ones a race could break are one statement each,
 * so the database itself decides between concurrent calls, on SQLite and PostgreSQL alike: of
 * any number of concurrent uses of one step or one code, exactly one succeeds. Deleting an
 * account deletes its rows (foreign keys, ON DELETE CASCADE).
 */
import { sql, type Kysely } from 'kysely';
import { run } from './errors.js';
import type { Schema, TwoFactorRow } from './schema.js';

export class TwoFactorStore {
  constructor(private readonly kysely: Kysely<Schema>) {}

  /** The factor of account `userId`, pending or enabled; undefined when it has none. */
  async find(userId: number): Promise<TwoFactorRow | undefined> {
    return run(() =>
      this.kysely
        .selectFrom('two_factor')
        .selectAll()
        .where('user_id', '=', userId)
        .executeTakeFirst(),
    );
  }

  /**
   * Stores `secretSealed` as the pending factor of account `userId`, replacing a pending one, in
   * one statement; false (nothing written) when the account has an enabled factor or is gone.
   */
  async begin(userId: number, secretSealed: string, now: number): Promise<boolean> {
    const result = await run(() =>
      this.kysely
        .insertInto('two_factor')
        .columns(['user_id', 'secret_sealed', 'enabled_at', 'last_used_step', 'created_at'])
        .expression((eb) =>
          eb
            .selectFrom('users')
            .select([
              'users.id as user_id',
              sql<string>`CAST(${secretSealed} AS text)`.as('secret_sealed'),
              sql<null>`CAST(NULL AS bigint)`.as('enabled_at'),
              sql<null>`CAST(NULL AS bigint)`.as('last_used_step'),
              sql<number>`CAST(${now} AS bigint)`.as('created_at'),
            ])
            .where('users.id', '=', userId),
        )
        .onConflict((conflict) =>
          conflict
            .column('user_id')
            .doUpdateSet({
              secret_sealed: (eb) => eb.ref('excluded.secret_sealed'),
              created_at: (eb) => eb.ref('excluded.created_at'),
              last_used_step: null,
            })
            .where('two_factor.enabled_at', 'is', null),
        )
        .executeTakeFirst(),
    );
    return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  /**
   * Enables the pending factor of account `userId`, only if it still holds `secretSealed` (the
   * secret whose code was checked), marking `step` used, and stores `codeHashes` as its only
   * recovery codes: all in one transaction. False (nothing written) when it is not pending with
   * that secret any more (a concurrent confirmation won, or a new enrolment replaced it).
   */
  async enable(options: {
    userId: number;
    secretSealed: string;
    step: number;
    codeHashes: readonly string[];
    now: number;
  }): Promise<boolean> {
    const { userId, secretSealed, step, codeHashes, now } = options;
    return run(() =>
      this.kysely.transaction().execute(async (trx) => {
        const enabled = await trx
          .updateTable('two_factor')
          .set({ enabled_at: now, last_used_step: step })
          .where('user_id', '=', userId)
          .where('enabled_at', 'is', null)
          .where('secret_sealed', '=', secretSealed)
          .executeTakeFirst();
        if (enabled.numUpdatedRows !== 1n) return false;
        await replaceCodesIn(trx, userId, codeHashes, now);
        return true;
      }),
    );
  }

  /**
   * Marks time step `step` used by the enabled factor of account `userId`, in one statement, if
   * no step as late or later was used before; returns whether it did. This is what makes a code
   * work once: the same code again, or a code of an earlier step, finds no row to update.
   */
  async useStep(userId: number, step: number): Promise<boolean> {
    const result = await run(() =>
      this.kysely
        .updateTable('two_factor')
        .set({ last_used_step: step })
        .where('user_id', '=', userId)
        .where('enabled_at', 'is not', null)
        .where((eb) => eb.or([eb('last_used_step', 'is', null), eb('last_used_step', '<', step)]))
        .executeTakeFirst(),
    );
    return result.numUpdatedRows === 1n;
  }

  /**
   * Marks the unused recovery code of account `userId` with hash `codeHash` used, in one
   * statement; returns whether it did (true once per code).
   */
  async useRecoveryCode(userId: number, codeHash: string, now: number): Promise<boolean> {
    const result = await run(() =>
      this.kysely
        .updateTable('recovery_codes')
        .set({ used_at: now })
        .where('user_id', '=', userId)
        .where('code_hash', '=', codeHash)
        .where('used_at', 'is', null)
        .executeTakeFirst(),
    );
    return result.numUpdatedRows === 1n;
  }

  /**
   * Makes `codeHashes` the only recovery codes of account `userId`, in one transaction, if its
   * factor is enabled; returns whether it did.
   */
  async replaceCodes(userId: number, codeHashes: readonly string[], now: number): Promise<boolean> {
    return run(() =>
      this.kysely.transaction().execute(async (trx) => {
        const factor = await trx
          .selectFrom('two_factor')
          .select('user_id')
          .where('user_id', '=', userId)
          .where('enabled_at', 'is not', null)
          .executeTakeFirst();
        if (factor === undefined) return false;
        await replaceCodesIn(trx, userId, codeHashes, now);
        return true;
      }),
    );
  }

  /** How many recovery codes of account `userId` are still unused. */
  async countUnusedCodes(userId: number): Promise<number> {
    const row = await run(() =>
      this.kysely
        .selectFrom('recovery_codes')
        .select((eb) => eb.fn.countAll<number | string | bigint>().as('count'))
        .where('user_id', '=', userId)
        .where('used_at', 'is', null)
        .executeTakeFirstOrThrow(),
    );
    return Number(row.count);
  }

  /**
   * Removes the factor of account `userId` and its recovery codes, in one transaction; returns
   * whether it had an enabled factor.
   */
  async disable(userId: number): Promise<boolean> {
    return run(() =>
      this.kysely.transaction().execute(async (trx) => {
        const removed = await trx
          .deleteFrom('two_factor')
          .where('user_id', '=', userId)
          .returning('enabled_at')
          .executeTakeFirst();
        await trx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
        return removed !== undefined && removed.enabled_at !== null;
      }),
    );
  }
}

/** Deletes every recovery code of `userId` and inserts `codeHashes`, within `trx`. */
async function replaceCodesIn(
  trx: Kysely<Schema>,
  userId: number,
  codeHashes: readonly string[],
  now: number,
): Promise<void> {
  await trx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
  if (codeHashes.length === 0) return;
  await trx
    .insertInto('recovery_codes')
    .values(
      codeHashes.map((hash) => ({
        user_id: userId,
        code_hash: hash,
        created_at: now,
        used_at: null,
      })),
    )
    .execute();
}
