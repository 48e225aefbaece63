/**
 * Waiting for a SQLite lock held by another connection (the CLI, a backup tool, another
 * process) without stopping the event loop. better-sqlite3 is synchronous: SQLite's own busy
 * handler sleeps on the event loop's thread, so it is given only {@link LOCK_STEP_MS} per
 * attempt. A statement that still finds the database locked is tried again after a timer, the
 * pause doubling up to {@link LONGEST_PAUSE_MS}, until {@link LOCK_WAIT_MS} have passed; then the
 * busy error is thrown, which the data layer reports as the database being unavailable (503).
 *
 * Only a statement outside any transaction is tried again: it did nothing when it failed. A
 * statement inside a transaction is not, since the transaction may have to start over; the
 * dialect below therefore begins transactions with `BEGIN IMMEDIATE`, which takes the write
 * lock first, so that the waiting is done by `BEGIN` itself, before anything was done.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type SQLite from 'better-sqlite3';
import {
  CompiledQuery,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
  type SqliteDialectConfig,
} from 'kysely';

/** How long a statement waits for a lock, all attempts together, before it fails. */
export const LOCK_WAIT_MS = 5000;
/** SQLite's `busy_timeout`: the longest one attempt may hold the event loop while waiting. */
export const LOCK_STEP_MS = 20;
const FIRST_PAUSE_MS = 5;
const LONGEST_PAUSE_MS = 100;

function isBusy(error: unknown): boolean {
  return (
    error instanceof Error &&
    'code' in error &&
    typeof error.code === 'string' &&
    error.code.startsWith('SQLITE_BUSY')
  );
}

/**
 * Runs `attempt` (one statement on `sqlite`), trying it again off the event loop while the
 * database is locked by another connection, within {@link LOCK_WAIT_MS}.
 */
export async function waitingOutLocks<T>(
  sqlite: SQLite.Database,
  attempt: () => T | Promise<T>,
): Promise<T> {
  const deadline = performance.now() + LOCK_WAIT_MS;
  let pause = FIRST_PAUSE_MS;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      const timeLeft = deadline - performance.now();
      if (!isBusy(error) || sqlite.inTransaction || timeLeft <= 0) throw error;
      pause = Math.min(pause, timeLeft);
    }
    await sleep(pause);
    pause = Math.min(pause * 2, LONGEST_PAUSE_MS);
  }
}

/** Kysely's SQLite dialect, its statements waiting out other connections' locks as above. */
export class LockWaitingSqliteDialect extends SqliteDialect {
  constructor(
    private readonly sqlite: SQLite.Database,
    private readonly config: SqliteDialectConfig,
  ) {
    super(config);
  }

  override createDriver(): Driver {
    return new LockWaitingSqliteDriver(this.sqlite, this.config);
  }
}

class LockWaitingSqliteDriver extends SqliteDriver {
  private waiting: DatabaseConnection | undefined;

  constructor(
    private readonly sqlite: SQLite.Database,
    config: SqliteDialectConfig,
  ) {
    super(config);
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    // One connection, as in Kysely's driver (its mutex is kept): only its statements are wrapped.
    const connection = await super.acquireConnection();
    this.waiting ??= {
      executeQuery: <R>(query: CompiledQuery) =>
        waitingOutLocks<QueryResult<R>>(this.sqlite, () => connection.executeQuery<R>(query)),
      streamQuery: <R>(query: CompiledQuery, chunkSize?: number) =>
        connection.streamQuery<R>(query, chunkSize),
    };
    return this.waiting;
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}
