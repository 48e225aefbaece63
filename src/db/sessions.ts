/**
 * The `sessions` table, the one home of session rows: nothing else writes them. Its operations
 * are named for what they mean (open within the account's cap, find with its account, touch,
 * end one, end all of an account, end all but one). Each is one statement (opening: two, in one
 * transaction), so the ones that must not undo a concurrent change (a session opened only while
 * the password just verified is still the account's, say) are atomic in the database itself, on
 * SQLite and PostgreSQL alike.
 * Deleting an account deletes its sessions (foreign key, ON DELETE CASCADE).
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from './connection.js';
import { run } from './errors.js';
import type { NewSession, Schema, SessionRow } from './schema.js';
import { sessionLookup, type SessionLookup, type SessionWithAccount } from './session-lookup.js';

export type { SessionWithAccount } from './session-lookup.js';

/** What makes a session live at `now`: sessions outside these bounds are dead, whatever is stored. */
export interface Liveness {
  readonly now: number;
  /** Dead when last seen at or before this (idle too long). */
  readonly seenAfter: number;
  /** Dead when begun at or before this (older than today's SESSION_TTL). */
  readonly startedAfter: number;
}

export class Sessions {
  private readonly kysely: Kysely<Schema>;
  private readonly byTokenDigest: SessionLookup;

  constructor(database: Pick<Database, 'kysely' | 'engine' | 'sqlite' | 'pool'>) {
    this.kysely = database.kysely;
    this.byTokenDigest = sessionLookup(database);
  }

  /**
   * Opens `session` for its account, only if the account exists and, with `whilePasswordIs`,
   * still holds that password hash (a reset or change completed meanwhile must not be outlived
   * by a session opened with the old password); with `whileChallengeIs`, only while the login
   * challenge of that token digest is still there (a reset, a change or the factor's reset
   * removes the account's challenges). In the same transaction (a login commits once), keeps the
   * account within `most` sessions, the new one among them: ends its dead sessions and, of the
   * live others, all but the `most - 1` most recently seen, in one statement. Returns the public
   * ids of the live sessions it ended (over the cap) and of the dead ones (swept), apart; null
   * when the session was not opened, and then nothing is ended. Concurrent calls never leave
   * more than `most` live sessions.
   */
  async openWithinCap(
    session: NewSession,
    options: OpenConditions,
    cap: { most: number; liveness: Liveness },
  ): Promise<Ended | null> {
    return run(() =>
      this.kysely.transaction().execute(async (trx) => {
        if (!(await insertSession(trx, session, options))) return null;
        return deleteOverCap(trx, { userId: session.user_id, keepId: session.id, ...cap });
      }),
    );
  }

  /** The session whose token has digest `tokenDigest`, with its account: one indexed read. */
  findWithAccount(tokenDigest: string): Promise<SessionWithAccount | undefined> {
    return this.byTokenDigest(tokenDigest);
  }

  /** Every session of account `userId` (live or not), most recently seen first. */
  async listOf(userId: number): Promise<SessionRow[]> {
    return run(() =>
      this.kysely
        .selectFrom('sessions')
        .selectAll()
        .where('user_id', '=', userId)
        .orderBy('last_seen_at', 'desc')
        .orderBy('id')
        .execute(),
    );
  }

  /** Records activity on the session of `tokenDigest`, if it still exists. */
  async touch(tokenDigest: string, now: number): Promise<void> {
    await run(() =>
      this.kysely
        .updateTable('sessions')
        .set({ last_seen_at: now })
        .where('token_digest', '=', tokenDigest)
        .execute(),
    );
  }

  /**
   * Gives session `id` of account `userId` a new token, if it still has `fromDigest` and the
   * account still holds password hash `whilePasswordIs`; returns whether it did.
   */
  async replaceToken(options: {
    id: string;
    userId: number;
    fromDigest: string;
    toDigest: string;
    whilePasswordIs: string;
  }): Promise<boolean> {
    const { id, userId, fromDigest, toDigest, whilePasswordIs } = options;
    const result = await run(() =>
      this.kysely
        .updateTable('sessions')
        .set({ token_digest: toDigest })
        .where('id', '=', id)
        .where('user_id', '=', userId)
        .where('token_digest', '=', fromDigest)
        .where((eb) =>
          eb.exists(
            eb
              .selectFrom('users')
              .select(sql`1`.as('one'))
              .where('users.id', '=', userId)
              .where('users.hashed_password', '=', whilePasswordIs),
          ),
        )
        .executeTakeFirst(),
    );
    return result.numUpdatedRows === 1n;
  }

  /** Ends the session of `tokenDigest`; false when there was none. */
  async delete(tokenDigest: string): Promise<boolean> {
    const result = await run(() =>
      this.kysely.deleteFrom('sessions').where('token_digest', '=', tokenDigest).executeTakeFirst(),
    );
    return result.numDeletedRows === 1n;
  }

  /** Ends session `id` if it is one of account `userId`'s; returns whether it did. */
  async deleteOneOf(userId: number, id: string): Promise<boolean> {
    const result = await run(() =>
      this.kysely
        .deleteFrom('sessions')
        .where('id', '=', id)
        .where('user_id', '=', userId)
        .executeTakeFirst(),
    );
    return result.numDeletedRows === 1n;
  }

  /** Ends every session of account `userId`; returns the public ids of those it ended. */
  async deleteAllOf(userId: number): Promise<string[]> {
    const rows = await run(() =>
      this.kysely.deleteFrom('sessions').where('user_id', '=', userId).returning('id').execute(),
    );
    return rows.map((row) => row.id);
  }

  /** Ends every session of account `userId` but session `keepId`; returns the ids it ended. */
  async deleteAllOfBut(userId: number, keepId: string): Promise<string[]> {
    const rows = await run(() =>
      this.kysely
        .deleteFrom('sessions')
        .where('user_id', '=', userId)
        .where('id', '<>', keepId)
        .returning('id')
        .execute(),
    );
    return rows.map((row) => row.id);
  }
}

/** Where a session may be opened: the account exists, and these hold (see openWithinCap). */
export interface OpenConditions {
  whilePasswordIs?: string;
  whileChallengeIs?: string;
}

/** The public ids of the sessions a cap ended: live ones over the cap, and dead ones swept. */
export interface Ended {
  overCap: string[];
  dead: string[];
}

type Executor = Kysely<Schema> | Transaction<Schema>;

async function insertSession(
  db: Executor,
  session: NewSession,
  options: OpenConditions,
): Promise<boolean> {
  const { whilePasswordIs, whileChallengeIs } = options;
  const text = (value: string | null | undefined) => sql<string>`CAST(${value ?? null} AS text)`;
  const bigint = (value: number) => sql<number>`CAST(${value} AS bigint)`;
  const result = await db
    .insertInto('sessions')
    .columns([
      'id',
      'user_id',
      'token_digest',
      'created_at',
      'last_seen_at',
      'expires_at',
      'ip',
      'user_agent',
      'auth_method',
    ])
    .expression((eb) =>
      eb
        .selectFrom('users')
        .select([
          text(session.id).as('id'),
          'users.id as user_id',
          text(session.token_digest).as('token_digest'),
          bigint(session.created_at).as('created_at'),
          bigint(session.last_seen_at).as('last_seen_at'),
          bigint(session.expires_at).as('expires_at'),
          text(session.ip).as('ip'),
          text(session.user_agent).as('user_agent'),
          text(session.auth_method).as('auth_method'),
        ])
        .where('users.id', '=', session.user_id)
        .$if(whilePasswordIs !== undefined, (query) =>
          query.where('users.hashed_password', '=', whilePasswordIs ?? ''),
        )
        .$if(whileChallengeIs !== undefined, (query) =>
          query.where((inner) =>
            inner.exists(
              inner
                .selectFrom('login_challenges')
                .select(sql`1`.as('one'))
                .where('login_challenges.token_digest', '=', whileChallengeIs ?? '')
                .where('login_challenges.user_id', '=', session.user_id),
            ),
          ),
        ),
    )
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
}

async function deleteOverCap(
  db: Executor,
  options: { userId: number; keepId: string; most: number; liveness: Liveness },
): Promise<Ended> {
  const { userId, keepId, most, liveness } = options;
  const rows = await db
    .deleteFrom('sessions')
    .where('user_id', '=', userId)
    .where('id', '<>', keepId)
    .where((eb) =>
      eb.or([
        eb('expires_at', '<=', liveness.now),
        eb('last_seen_at', '<=', liveness.seenAfter),
        eb('created_at', '<=', liveness.startedAfter),
        eb(
          'id',
          'not in',
          eb
            .selectFrom('sessions as kept')
            .select('kept.id')
            .where('kept.user_id', '=', userId)
            .where('kept.id', '<>', keepId)
            .where('kept.expires_at', '>', liveness.now)
            .where('kept.last_seen_at', '>', liveness.seenAfter)
            .where('kept.created_at', '>', liveness.startedAfter)
            .orderBy('kept.last_seen_at', 'desc')
            .orderBy('kept.created_at', 'desc')
            .orderBy('kept.id')
            .limit(Math.max(0, most - 1)),
        ),
      ]),
    )
    .returning(['id', 'expires_at', 'last_seen_at', 'created_at'])
    .execute();
  const isDead = (row: (typeof rows)[number]) =>
    row.expires_at <= liveness.now ||
    row.last_seen_at <= liveness.seenAfter ||
    row.created_at <= liveness.startedAfter;
  return {
    overCap: rows.filter((row) => !isDead(row)).map((row) => row.id),
    dead: rows.filter(isDead).map((row) => row.id),
  };
}
