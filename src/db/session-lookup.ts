/**
 * The session lookup, run on every authenticated request: one read by the unique index on
 * `session_id`, prepared once on the driver itself rather than through the query builder, whose
 * per-query work was most of a session check's cost. Rows come back as arrays in a fixed column
 * order and are turned into users by one object literal.
 */
import type { Database } from './connection.js';
import { translateDriverError } from './errors.js';
import type { User } from './schema.js';

export type SessionLookup = (sessionDigest: string) => Promise<User | undefined>;

const COLUMNS = [
  'id',
  'email',
  'hashed_password',
  'session_id',
  'session_created_at',
  'session_seen_at',
  'reset_token',
  'reset_token_expires_at',
  'created_at',
  'updated_at',
] as const satisfies readonly (keyof User)[];

const QUERY = `SELECT ${COLUMNS.join(', ')} FROM users WHERE session_id = $1 LIMIT 1`;

type Row = [
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
  };
}

/** The lookup for `database`'s engine; errors are the data layer's (see `run`). */
export function sessionLookup(database: Pick<Database, 'sqlite' | 'pool'>): SessionLookup {
  const { sqlite, pool } = database;
  if (sqlite !== undefined) {
    const statement = sqlite.prepare<[string], Row>(QUERY.replace('$1', '?')).raw(true);
    return (sessionDigest) => {
      try {
        const row = statement.get(sessionDigest);
        return Promise.resolve(row === undefined ? undefined : userOf(row));
      } catch (error) {
        return Promise.reject(translateDriverError(error));
      }
    };
  }
  if (pool !== undefined) {
    // A named statement: each pooled connection parses and plans it once.
    return (sessionDigest) =>
      pool
        .query<Row>({
          name: 'bienvenue_user_by_session',
          text: QUERY,
          values: [sessionDigest],
          rowMode: 'array',
        })
        .then(
          ({ rows }) => (rows[0] === undefined ? undefined : userOf(rows[0])),
          (error: unknown) => Promise.reject(translateDriverError(error)),
        );
  }
  throw new Error('sessionLookup: the database has neither a SQLite connection nor a pool');
}
