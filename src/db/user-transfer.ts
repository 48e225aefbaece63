/**
 * Accounts in and out in bulk: the queries behind `bienvenue users import` and `export`. Inserts
 * go in batches, one transaction each, and never over an existing account (a row whose address
 * or key is taken is left out), so an interrupted import can run again.
 */
import type { Kysely } from 'kysely';
import { run } from './errors.js';
import type { Schema } from './schema.js';

/** An account as an import stores it. */
export interface ImportedUser {
  readonly email: string;
  readonly emailKey: string;
  readonly hashedPassword: string;
  readonly createdAt: number;
  /** When the address counts as proven; null when it does not. */
  readonly emailVerifiedAt: number | null;
}

/** An account as an export reads it. */
export interface ExportedUser {
  readonly id: number;
  readonly email: string;
  readonly hashedPassword: string;
  readonly createdAt: number;
  readonly emailVerified: boolean;
  readonly twoFactor: boolean;
}

export class UserTransfer {
  constructor(private readonly kysely: Kysely<Schema>) {}

  /** The stored hash of each existing account among `keys` or `addresses`, by key and address. */
  async existing(
    keys: readonly string[],
    addresses: readonly string[],
  ): Promise<{ byKey: Map<string, string>; byAddress: Map<string, string> }> {
    const byKey = new Map<string, string>();
    const byAddress = new Map<string, string>();
    if (keys.length === 0) return { byKey, byAddress };
    const rows = await run(() =>
      this.kysely
        .selectFrom('users')
        .select(['email', 'email_key', 'hashed_password'])
        .where((eb) => eb.or([eb('email_key', 'in', keys), eb('email', 'in', addresses)]))
        .execute(),
    );
    for (const row of rows) {
      if (row.email_key !== null) byKey.set(row.email_key, row.hashed_password);
      byAddress.set(row.email, row.hashed_password);
    }
    return { byKey, byAddress };
  }

  /**
   * Inserts `users` in one transaction, leaving out any whose address or key is taken; the keys
   * of those stored.
   */
  async insert(users: readonly ImportedUser[], now: number): Promise<Set<string>> {
    if (users.length === 0) return new Set();
    const rows = await run(() =>
      this.kysely.transaction().execute((trx) =>
        trx
          .insertInto('users')
          .values(
            users.map((user) => ({
              email: user.email,
              email_key: user.emailKey,
              hashed_password: user.hashedPassword,
              created_at: user.createdAt,
              updated_at: now,
              email_verified_at: user.emailVerifiedAt,
            })),
          )
          .onConflict((conflict) => conflict.doNothing())
          .returning('email_key')
          .execute(),
      ),
    );
    return new Set(rows.flatMap((row) => (row.email_key === null ? [] : [row.email_key])));
  }

  /** Up to `limit` accounts after id `afterId`, in id order, with whether two-factor is on. */
  async page(afterId: number, limit: number): Promise<ExportedUser[]> {
    const rows = await run(() =>
      this.kysely
        .selectFrom('users')
        .leftJoin('two_factor', 'two_factor.user_id', 'users.id')
        .select([
          'users.id',
          'users.email',
          'users.hashed_password',
          'users.created_at',
          'users.email_verified_at',
          'two_factor.enabled_at',
        ])
        .where('users.id', '>', afterId)
        .orderBy('users.id')
        .limit(limit)
        .execute(),
    );
    return rows.map((row) => ({
      id: row.id,
      email: row.email,
      hashedPassword: row.hashed_password,
      createdAt: row.created_at,
      emailVerified: row.email_verified_at !== null,
      twoFactor: row.enabled_at !== null,
    }));
  }
}
