import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDatabaseUnavailable, isUniqueViolation } from '../../src/db/errors.js';

const driverError = (message: string, code?: string) => Object.assign(new Error(message), { code });

test('connection failures, time-outs and server shutdowns count as the database being unavailable', () => {
  for (const error of [
    driverError('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
    driverError('read ECONNRESET', 'ECONNRESET'),
    driverError('Connection terminated unexpectedly'),
    driverError('timeout exceeded when trying to connect'),
    driverError('Query read timeout'),
    driverError('terminating connection due to administrator command', '57P01'),
    driverError('the database system is starting up', '57P03'),
    driverError('sorry, too many clients already', '53300'),
    driverError('connection failure', '08006'),
    driverError('database is locked', 'SQLITE_BUSY'),
    driverError('disk I/O error', 'SQLITE_IOERR_WRITE'),
  ]) {
    assert.equal(isDatabaseUnavailable(error), true, error.message);
  }
});

test('query mistakes and constraint violations do not count as unavailability', () => {
  for (const error of [
    driverError('duplicate key value violates unique constraint', '23505'),
    driverError('UNIQUE constraint failed: users.email', 'SQLITE_CONSTRAINT_UNIQUE'),
    driverError('relation "users" does not exist', '42P01'),
    driverError('syntax error', '42601'),
    new Error('something else'),
  ]) {
    assert.equal(isDatabaseUnavailable(error), false, error.message);
  }
  assert.equal(isDatabaseUnavailable('ECONNREFUSED'), false);
  assert.equal(isUniqueViolation(driverError('dup', '23505')), true);
});
