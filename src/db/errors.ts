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
