/**
 * Whether the database's storage is taking writes, as the last writes said. A query that fails
 * with a storage error ({@link isStorageFailure}: no space left, an I/O error, a read-only file)
 * marks the storage as failing, from that moment. Only a write known to need new space clears
 * it: the probe of {@link probeStorage}, which readiness runs while writes fail. Another statement
 * that succeeds proves nothing (on a full disk, a delete or an upsert that changes no row still
 * succeeds), so it leaves the state as it is. Readiness reports it, so that an instance whose
 * disk is full is taken out of rotation, and finds out by itself when space is back, even if no
 * traffic reaches the instance meanwhile.
 */
import type { Kysely, LogEvent } from 'kysely';
import type { Clock } from '../clock.js';
import type { Engine } from './connection.js';
import { isStorageFailure } from './errors.js';
import type { Schema } from './schema.js';

export interface StorageFailure {
  /** When the first of the failed writes failed (epoch milliseconds). */
  readonly since: number;
  /**
   * The last one's error code (`SQLITE_FULL`, `53100`…), never its message, which may name files
   * (it is logged in full where the write failed).
   */
  readonly reason: string;
}

export class StorageHealth {
  private current: StorageFailure | undefined;

  constructor(private readonly clock: Clock) {}

  /** The current failure, or undefined while writes succeed. */
  get failure(): StorageFailure | undefined {
    return this.current;
  }

  /** Told of every query's outcome (Kysely's `log` hook): storage errors mark writes failing. */
  readonly observe = (event: LogEvent): void => {
    if (event.level !== 'error' || !isStorageFailure(event.error)) return;
    const error = event.error as Error & { code: string };
    this.current = {
      since: this.current?.since ?? this.clock.now(),
      reason: error.code,
    };
  };

  /** A write that needed new space succeeded: storage takes writes again. */
  recovered(): void {
    this.current = undefined;
  }
}

const PROBE_TABLE = 'bienvenue_storage_probe';

/**
 * One small write of no consequence that needs new space, whose success tells `database.storage`
 * that writes work again: on SQLite a table created and dropped (creating one takes a new page, so
 * it fails while the file can neither grow nor reuse a free page), on PostgreSQL a row inserted
 * and deleted in `throttles` (which writes to its files and its log). Never throws: a failure is
 * recorded by the health state like any other.
 */
export async function probeStorage(database: {
  readonly kysely: Kysely<Schema>;
  readonly engine: Engine;
  readonly storage: StorageHealth;
}): Promise<void> {
  const { kysely } = database;
  try {
    if (database.engine === 'sqlite') {
      try {
        await kysely.schema.createTable(PROBE_TABLE).addColumn('x', 'integer').execute();
      } catch (error) {
        // Otherwise the table was left by a probe whose drop failed: dropping it is the probe.
        if (isStorageFailure(error)) return;
      }
      await kysely.schema.dropTable(PROBE_TABLE).execute();
    } else {
      const subject = crypto.randomUUID();
      const row = { kind: 'storage_probe', subject, count: 0, window_started_at: 0 };
      await kysely.insertInto('throttles').values(row).execute();
      await kysely.deleteFrom('throttles').where('subject', '=', subject).execute();
    }
    database.storage.recovered();
  } catch {
    // The failure is what the health state recorded.
  }
}
