/**
 * The course's DB class: the only code that reads or writes the `users` table. It knows nothing of
 * passwords, tokens or HTTP; it stores what the Auth service hands it. Besides the course's three
 * methods it offers the few conditional updates that must be atomic in the database itself.
 * Sessions, once columns of `users`, have a table and a repository of their own (sessions.ts).
 */
import { sql, type ExpressionBuilder, type Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import { emailKey } from '../auth/email.js';
import type { Database } from './connection.js';
import { InvalidAttributeError, InvalidRequestError, NoResultFoundError, run } from './errors.js';
import { USER_COLUMNS, type Schema, type User, type UserUpdate } from './schema.js';

type UserColumn = keyof User;
export type UserFilters = Readonly<Partial<User>>;

export class DB {
  private readonly kysely: Kysely<Schema>;

  constructor(
    database: Pick<Database, 'kysely'>,
    private readonly clock: Clock,
  ) {
    this.kysely = database.kysely;
  }

  /**
   * Inserts a user and returns the stored row; a taken email or comparison key throws
   * {@link UniqueViolationError}. `emailKey` defaults to the email's own comparison key (the
   * course's `add_user(email, hashed_password)` takes no key). With `resetToken`, the account is
   * stored with that reset token already set (an invitation, emailed), in the same statement.
   * With `emailVerified`, its address is stored as proven (accounts the operator makes).
   */
  async addUser(
    email: string,
    hashedPassword: string,
    options: {
      emailKey?: string;
      resetToken?: { digest: string; expiresAt: number };
      emailVerified?: boolean;
    } = {},
  ): Promise<User> {
    const now = this.clock.now();
    const { resetToken } = options;
    return run(() =>
      this.kysely
        .insertInto('users')
        .values({
          email,
          email_key: options.emailKey ?? emailKey(email),
          hashed_password: hashedPassword,
          ...(resetToken && {
            reset_token: resetToken.digest,
            reset_token_expires_at: resetToken.expiresAt,
            reset_token_emailed: 1,
          }),
          email_verified_at: options.emailVerified === true ? now : null,
          created_at: now,
          updated_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow(),
    );
  }

  /**
   * The account an address names: the one whose comparison key is `key`, or else one that has
   * no key (made before keys, its key taken by an older account) and is stored as `address`
   * exactly; that one first, so each such account keeps its own address.
   */
  async findUserByEmail(email: { address: string; key: string }): Promise<User | undefined> {
    return run(() =>
      this.kysely
        .selectFrom('users')
        .selectAll()
        .where((eb) =>
          eb.or([
            eb('email_key', '=', email.key),
            eb.and([eb('email_key', 'is', null), eb('email', '=', email.address)]),
          ]),
        )
        .orderBy(sql`CASE WHEN email_key IS NULL THEN 0 ELSE 1 END`)
        .limit(1)
        .executeTakeFirst(),
    );
  }

  /**
   * The first user matching every filter (a null value matches NULL). Throws
   * {@link InvalidRequestError} for no filter or an unknown column, {@link NoResultFoundError}
   * when nothing matches.
   */
  async findUserBy(filters: UserFilters): Promise<User> {
    const user = await this.findUser(filters);
    if (user === undefined) throw new NoResultFoundError();
    return user;
  }

  /** Like {@link findUserBy}, but "no such user" is `undefined` rather than an error. */
  async findUser(filters: UserFilters): Promise<User | undefined> {
    if (Object.keys(filters).length === 0) {
      throw new InvalidRequestError('findUserBy needs at least one filter');
    }
    const condition = matching(filters);
    return run(() =>
      this.kysely.selectFrom('users').selectAll().where(condition).limit(1).executeTakeFirst(),
    );
  }

  /**
   * Sets the given columns of user `userId` (and `updated_at`). Throws
   * {@link InvalidAttributeError} for a name that is not an updatable column and
   * {@link NoResultFoundError} when the user does not exist.
   */
  async updateUser(userId: number, attributes: Readonly<UserUpdate>): Promise<void> {
    requireUpdatable(attributes);
    const result = await run(() =>
      this.kysely
        .updateTable('users')
        .set({ ...attributes, updated_at: this.clock.now() })
        .where('id', '=', userId)
        .executeTakeFirst(),
    );
    if (result.numUpdatedRows === 0n) throw new NoResultFoundError(`No user with id ${userId}`);
  }

  /**
   * Sets the given columns of user `userId` only if its row still holds every `expected` value
   * (compare-and-set); returns whether it did. For writes that must not undo a concurrent change.
   */
  async compareAndUpdateUser(
    userId: number,
    expected: Readonly<Partial<User>>,
    attributes: Readonly<UserUpdate>,
  ): Promise<boolean> {
    requireUpdatable(attributes);
    const condition = matching(expected);
    const result = await run(() =>
      this.kysely
        .updateTable('users')
        .set({ ...attributes, updated_at: this.clock.now() })
        .where('id', '=', userId)
        .where(condition)
        .executeTakeFirst(),
    );
    return result.numUpdatedRows === 1n;
  }

  /** Users in id order, `limit` of them after the first `offset`. */
  async listUsers(options: { limit: number; offset: number }): Promise<User[]> {
    return run(() =>
      this.kysely
        .selectFrom('users')
        .selectAll()
        .orderBy('id')
        .limit(options.limit)
        .offset(options.offset)
        .execute(),
    );
  }

  /** Deletes user `userId`; false when there was none. */
  async deleteUser(userId: number): Promise<boolean> {
    const result = await run(() =>
      this.kysely.deleteFrom('users').where('id', '=', userId).executeTakeFirst(),
    );
    return result.numDeletedRows === 1n;
  }

  /**
   * In one statement: if user `userId` still holds the unexpired reset token `tokenDigest`, sets
   * the new password hash and clears the token (the caller then ends the account's sessions); a
   * token that was emailed also marks the address verified. Of
   * concurrent calls with the same token, exactly one returns true.
   */
  async consumeResetToken(options: {
    userId: number;
    tokenDigest: string;
    hashedPassword: string;
    now: number;
  }): Promise<boolean> {
    const { userId, tokenDigest, hashedPassword, now } = options;
    const result = await run(() =>
      this.kysely
        .updateTable('users')
        .set({
          hashed_password: hashedPassword,
          reset_token: null,
          reset_token_expires_at: null,
          reset_token_emailed: 0,
          // A token that was emailed proves the address it went to.
          email_verified_at: sql<
            number | null
          >`CASE WHEN reset_token_emailed = 1 THEN COALESCE(email_verified_at, ${now}) ELSE email_verified_at END`,
          updated_at: now,
        })
        .where('id', '=', userId)
        .where('reset_token', '=', tokenDigest)
        .where('reset_token_expires_at', '>', now)
        .executeTakeFirst(),
    );
    return result.numUpdatedRows === 1n;
  }
}

/**
 * A condition that every filter holds (a null value matches NULL). Throws
 * {@link InvalidRequestError} for a name that is not a column or a filter without a value.
 */
function matching(filters: UserFilters) {
  const entries = Object.entries(filters);
  for (const [column, value] of entries) {
    if (!USER_COLUMNS.has(column)) throw new InvalidRequestError(`Unknown column: ${column}`);
    // An optional property left undefined would otherwise match nothing, silently.
    if ((value as unknown) === undefined) {
      throw new InvalidRequestError(`No value for filter: ${column}`);
    }
  }
  return (eb: ExpressionBuilder<Schema, 'users'>) =>
    eb.and(
      entries.map(([column, value]) =>
        value === null
          ? eb(column as UserColumn, 'is', null)
          : eb(column as UserColumn, '=', value as NonNullable<User[UserColumn]>),
      ),
    );
}

/** Throws {@link InvalidAttributeError} unless every name is an updatable column. */
function requireUpdatable(attributes: Readonly<UserUpdate>): void {
  for (const column of Object.keys(attributes)) {
    if (!USER_COLUMNS.has(column) || column === 'id') {
      throw new InvalidAttributeError(`Not an updatable attribute: ${column}`);
    }
  }
}
