/**
 * The session lookup, run on every authenticated request: one read by the unique index on
 * `session_id`, prepared once on the driver itself rather than through the query builder, whose
 * per-query work was most of a session check's cost. Rows come back as arrays in a fixed column
 * order and are turned into users by one object literal. On SQLite, a lock held by another
 * connection is waited out off the event loop, as for every other statement.
 */
import type SQLite from 'better-sqlite3';
import type { Database } from './connection.js';
import { translateDriverError } from './errors.js';
import { waitingOutLocks } from './sqlite-locks.js';
import { USER_COLUMN_NAMES, type User } from './schema.js';

export type SessionLookup = (sessionDigest: string) => Promise<User | undefined>;

const SELECT = `SELECT ${USER_COLUMN_NAMES.join(', ')} FROM users`;

/** A row as the drivers return it, its columns in the order of {@link USER_COLUMN_NAMES}. */
export type Row = [
  number,
  string,
  string,
  string | null,
  number | null,
  number | null,
  string | null,
  number | null,
  number,
  number,
  string | null,
];

function userOf(row: Row): User {
  return {
    id: row[0],
    email: row[1],
    hashed_password: row[2],
    session_id: row[3],
    session_created_at: row[4],
    session_seen_at: row[5],
    reset_token: row[6],
    reset_token_expires_at: row[7],
    created_at: row[8],
    updated_at: row[9],
    email_key: row[10],
  };
}

/** The lookup for `database`'s engine; errors are the data layer's (see `run`). */
export function sessionLookup(database: Pick<Database, 'sqlite' | 'pool'>): SessionLookup {
  const { sqlite, pool } = database;
  if (sqlite !== undefined) {
    // One statement per number of sessions asked for at once.
    const statements = new Map<number, SQLite.Statement<string[], Row>>();
    return batchLookups(MOST_PER_READ_SQLITE, (digests) => {
      let statement = statements.get(digests.length);
      if (statement === undefined) {
        const places = digests.map(() => '?').join(', ');
        statement = sqlite
          .prepare<string[], Row>(`${SELECT} WHERE session_id IN (${places})`)
          .raw(true);
        statements.set(digests.length, statement);
      }
      const prepared = statement;
      // Reads rarely meet a lock in WAL mode (another process's recovery or exclusive lock).
      return waitingOutLocks(sqlite, () => prepared.all(...digests));
    });
  }
  if (pool !== undefined) {
    return batchLookups(MOST_PER_READ_POSTGRES, async (digests) => {
      const { rows } = await pool.query<Row>({
        name: 'bienvenue_users_by_session',
        text: `${SELECT} WHERE session_id = ANY($1::text[])`,
        values: [digests],
        rowMode: 'array',
      });
      return rows;
    });
  }
  throw new Error('sessionLookup: the database has neither a SQLite connection nor a pool');
}

/** Most sessions looked up by one read. */
const MOST_PER_READ_SQLITE = 32;
const MOST_PER_READ_POSTGRES = 256;

interface Waiting {
  readonly sessionDigest: string;
  readonly resolve: (user: User | undefined) => void;
  readonly reject: (error: Error) => void;
}

/**
 * The lookups asked for while the event loop handles one round of network events are answered
 * by a single read, made once that round is over. Under load this divides the per-query cost
 * (PostgreSQL: the round trip and the server's work; SQLite: the read transaction's locks) between
 * the requests of a round; alone, a lookup waits for no timer. Every answer is still read from the
 * database when asked for: nothing is cached.
 */
export function batchLookups(
  most: number,
  readMany: (digests: string[]) => Promise<Row[]>,
): SessionLookup {
  const waiting: Waiting[] = [];
  const flush = () => {
    const batch = waiting.splice(0, most);
    if (waiting.length > 0) setImmediate(flush);
    const digests = [...new Set(batch.map((entry) => entry.sessionDigest))];
    // A read that throws at once (a closed SQLite connection) fails the round like one that rejects.
    new Promise<Row[]>((resolve) => resolve(readMany(digests)))
      .then((rows) => {
        const users = new Map(rows.map((row) => [row[3], userOf(row)]));
        for (const entry of batch) entry.resolve(users.get(entry.sessionDigest));
      })
      .catch((error: unknown) => {
        const translated = translateDriverError(error);
        // Settling twice does nothing: only the waiters not yet answered get the error.
        for (const entry of batch) entry.reject(translated);
      });
  };
  return (sessionDigest) =>
    new Promise((resolve, reject) => {
      if (waiting.push({ sessionDigest, resolve, reject }) === 1) setImmediate(flush);
    });
}
