/**
 * The session lookup, run on every authenticated request: one read of `sessions` by the unique
 * index on its token digest, joined to its account, prepared once on the driver itself rather
 * than through the query builder, whose per-query work was most of a session check's cost. Rows
 * come back as arrays in a fixed column order and are turned into a session and its account by
 * object literals. On SQLite, a lock held by another connection is waited out off the event loop,
 * as for every other statement. The implementation is chosen by the database's engine.
 */
import type SQLite from 'better-sqlite3';
import type { Database } from './connection.js';
import { translateDriverError } from './errors.js';
import { waitingOutLocks } from './sqlite-locks.js';
import { USER_COLUMN_NAMES, type AuthMethod, type SessionRow, type User } from './schema.js';

/** A session and the account it belongs to. */
export interface SessionWithAccount {
  readonly session: SessionRow;
  readonly user: User;
  /** Whether the account's two-factor authentication is on (read in the same statement). */
  readonly twoFactorOn: boolean;
}

export type SessionLookup = (tokenDigest: string) => Promise<SessionWithAccount | undefined>;

const SESSION_COLUMN_NAMES = [
  'id',
  'token_digest',
  'created_at',
  'last_seen_at',
  'expires_at',
  'ip',
  'user_agent',
  'auth_method',
] as const satisfies readonly (keyof SessionRow)[];

const SELECT = `SELECT ${[
  ...USER_COLUMN_NAMES.map((column) => `u.${column}`),
  ...SESSION_COLUMN_NAMES.map((column) => `s.${column}`),
  't.enabled_at',
].join(
  ', ',
)} FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN two_factor t ON t.user_id = u.id`;

/**
 * A row as the drivers return it: the columns of {@link USER_COLUMN_NAMES}, then those of the
 * session (id, token digest, created, last seen, expires, ip, user agent, auth method), then when
 * the account's two-factor authentication was turned on (null: off, or none).
 */
export type Row = [
  number,
  string,
  string,
  string | null,
  number | null,
  number,
  number,
  string | null,
  number | null,
  number,
  string,
  string,
  number,
  number,
  number,
  string | null,
  string | null,
  string,
  number | string | null,
];

/** Where the token digest is in a {@link Row}. */
const TOKEN_DIGEST = 11;

function sessionOf(row: Row): SessionWithAccount {
  return {
    user: {
      id: row[0],
      email: row[1],
      hashed_password: row[2],
      reset_token: row[3],
      reset_token_expires_at: row[4],
      created_at: row[5],
      updated_at: row[6],
      email_key: row[7],
      email_verified_at: row[8],
      reset_token_emailed: row[9],
    },
    session: {
      id: row[10],
      user_id: row[0],
      token_digest: row[11],
      created_at: row[12],
      last_seen_at: row[13],
      expires_at: row[14],
      ip: row[15],
      user_agent: row[16],
      auth_method: row[17] as AuthMethod,
    },
    twoFactorOn: row[18] !== null,
  };
}

/** The lookup for `database`'s engine; errors are the data layer's (see `run`). */
export function sessionLookup(
  database: Pick<Database, 'engine' | 'sqlite' | 'pool'>,
): SessionLookup {
  const { engine, sqlite, pool } = database;
  if (engine === 'sqlite' && sqlite !== undefined) {
    // One statement per number of sessions asked for at once.
    const statements = new Map<number, SQLite.Statement<string[], Row>>();
    return batchLookups(MOST_PER_READ_SQLITE, (digests) => {
      let statement = statements.get(digests.length);
      if (statement === undefined) {
        const places = digests.map(() => '?').join(', ');
        statement = sqlite
          .prepare<string[], Row>(`${SELECT} WHERE s.token_digest IN (${places})`)
          .raw(true);
        statements.set(digests.length, statement);
      }
      const prepared = statement;
      // Reads rarely meet a lock in WAL mode (another process's recovery or exclusive lock).
      return waitingOutLocks(sqlite, () => prepared.all(...digests));
    });
  }
  if (engine === 'postgres' && pool !== undefined) {
    return batchLookups(MOST_PER_READ_POSTGRES, async (digests) => {
      const { rows } = await pool.query<Row>({
        name: 'bienvenue_sessions_by_digest',
        text: `${SELECT} WHERE s.token_digest = ANY($1::text[])`,
        values: [digests],
        rowMode: 'array',
      });
      return rows;
    });
  }
  throw new Error(`sessionLookup: no ${engine} connection to read sessions through`);
}

/** Most sessions looked up by one read. */
const MOST_PER_READ_SQLITE = 32;
const MOST_PER_READ_POSTGRES = 256;

interface Waiting {
  readonly tokenDigest: string;
  readonly resolve: (found: SessionWithAccount | undefined) => void;
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
    const digests = [...new Set(batch.map((entry) => entry.tokenDigest))];
    // A read that throws at once (a closed SQLite connection) fails the round like one that rejects.
    new Promise<Row[]>((resolve) => resolve(readMany(digests)))
      .then((rows) => {
        const found = new Map(rows.map((row) => [row[TOKEN_DIGEST], sessionOf(row)]));
        for (const entry of batch) entry.resolve(found.get(entry.tokenDigest));
      })
      .catch((error: unknown) => {
        const translated = translateDriverError(error);
        // Settling twice does nothing: only the waiters not yet answered get the error.
        for (const entry of batch) entry.reject(translated);
      });
  };
  return (tokenDigest) =>
    new Promise((resolve, reject) => {
      if (waiting.push({ tokenDigest, resolve, reject }) === 1) setImmediate(flush);
    });
}
