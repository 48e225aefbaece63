/**
 * Errors of the data layer. They carry no HTTP meaning; the service above decides what they mean.
 * Names follow the course's SQLAlchemy errors (NoResultFound, InvalidRequestError, ValueError).
 */

/** `findUserBy` matched no row, or `updateUser` named a user that does not exist. */
export class NoResultFoundError extends Error {
  constructor(message = 'No row matched the filters') {
    super(message);
    this.name = 'NoResultFoundError';
  }
}

/** `findUserBy` was given no filter, or a filter that is not a column of `users`. */
export class InvalidRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidRequestError';
  }
}

/** `updateUser` was given an attribute that is not an updatable column (the course's ValueError). */
export class InvalidAttributeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidAttributeError';
  }
}

/** An insert or update would break a unique index (a taken email, say). */
export class UniqueViolationError extends Error {
  constructor(cause: unknown) {
    super('A unique constraint was violated', { cause });
    this.name = 'UniqueViolationError';
  }
}

/** True for a driver error that reports a unique-index violation (SQLite or PostgreSQL). */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== 'object' || error === null || !('code' in error)) return false;
  const { code } = error;
  return (
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    code === '23505'
  );
}

/** The database cannot be reached or cannot serve now; the operation may succeed if retried. */
export class DatabaseUnavailableError extends Error {
  constructor(cause: unknown) {
    super('The database is unavailable', { cause });
    this.name = 'DatabaseUnavailableError';
  }
}

const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
// pg reports lost connections and its own time-outs by message only.
const PG_CONNECTION_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Query read timeout|not queryable|Connection ended/;

function codeOf(error: Error): string {
  return 'code' in error && typeof error.code === 'string' ? error.code : '';
}

/**
 * True for a driver error that says the database's storage failed: no space left (SQLite's
 * `SQLITE_FULL`, PostgreSQL's `53100` disk_full), an I/O error (`SQLITE_IOERR…`, `58030`), or a
 * file that cannot be opened or written (`SQLITE_CANTOPEN…`, `SQLITE_READONLY…`).
 */
export function isStorageFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = codeOf(error);
  return (
    /^SQLITE_(IOERR|FULL|CANTOPEN|READONLY)/.test(code) || code === '53100' || code === '58030'
  );
}

/**
 * True for a driver error that says the database cannot serve now rather than that the query is
 * wrong: a network failure, a lost connection, a time-out, a server shutting down or out of
 * connections (PostgreSQL classes 08, 53, 57P), a SQLite database that stayed locked, or a
 * storage failure ({@link isStorageFailure}).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = codeOf(error);
  return (
    NETWORK_ERROR_CODES.has(code) ||
    /^(08|53|57P)/.test(code) ||
    /^SQLITE_(BUSY|LOCKED)/.test(code) ||
    isStorageFailure(error) ||
    PG_CONNECTION_MESSAGES.test(error.message)
  );
}

/**
 * Runs a query, translating the driver's errors into this layer's: a unique-index violation into
 * {@link UniqueViolationError}, an unreachable or overloaded database into
 * {@link DatabaseUnavailableError}.
 */
export async function run<T>(query: () => Promise<T>): Promise<T> {
  try {
    return await query();
  } catch (error) {
    throw translateDriverError(error);
  }
}

/** A driver's error as this layer's (see {@link run}); any other error unchanged. */
export function translateDriverError(error: unknown): Error {
  if (isUniqueViolation(error)) return new UniqueViolationError(error);
  if (isDatabaseUnavailable(error)) return new DatabaseUnavailableError(error);
  return error instanceof Error ? error : new Error(String(error));
}
