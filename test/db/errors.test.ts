import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CompiledQuery, LogEvent } from 'kysely';
import { isDatabaseUnavailable, isStorageFailure, isUniqueViolation } from '../../src/db/errors.js';
import { StorageHealth } from '../../src/db/storage-health.js';
import { FakeClock } from '../support/fakes.js';

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

test('storage failures (no space, I/O, read-only file) are recognised on both engines, and are 503s', () => {
  for (const error of [
    driverError('database or disk is full', 'SQLITE_FULL'),
    driverError('disk I/O error', 'SQLITE_IOERR_WRITE'),
    driverError('attempt to write a readonly database', 'SQLITE_READONLY'),
    driverError('unable to open database file', 'SQLITE_CANTOPEN'),
    driverError('could not extend file: No space left on device', '53100'),
    driverError('could not write to file', '58030'),
  ]) {
    assert.equal(isStorageFailure(error), true, error.message);
    assert.equal(isDatabaseUnavailable(error), true, error.message);
  }
  for (const error of [
    driverError('database is locked', 'SQLITE_BUSY'),
    driverError('sorry, too many clients already', '53300'),
    driverError('duplicate key value violates unique constraint', '23505'),
  ]) {
    assert.equal(isStorageFailure(error), false, error.message);
  }
});

test('the storage health is failing from a storage error until a probe write succeeds; other statements change nothing', () => {
  const clock = new FakeClock();
  const health = new StorageHealth(clock);
  const query = (kind: string) => ({ query: { kind } }) as unknown as CompiledQuery;
  const succeeded = (kind: string): LogEvent => ({
    level: 'query',
    query: query(kind),
    queryDurationMillis: 1,
  });
  const failed = (kind: string, error: Error): LogEvent => ({
    level: 'error',
    error,
    query: query(kind),
    queryDurationMillis: 1,
  });
  health.observe(failed('InsertQueryNode', driverError('syntax error', '42601')));
  assert.equal(health.failure, undefined, 'not a storage error');
  const since = clock.now();
  health.observe(failed('InsertQueryNode', driverError('database or disk is full', 'SQLITE_FULL')));
  clock.advanceSeconds(10);
  health.observe(failed('UpdateQueryNode', driverError('disk I/O error', 'SQLITE_IOERR_WRITE')));
  assert.deepEqual(health.failure, { since, reason: 'SQLITE_IOERR_WRITE' });
  for (const kind of ['SelectQueryNode', 'RawNode', 'DeleteQueryNode', 'InsertQueryNode']) {
    health.observe(succeeded(kind));
  }
  // A delete or an upsert that changes no row succeeds on a full disk too.
  assert.notEqual(health.failure, undefined, 'a statement that may have written nothing');
  health.recovered();
  assert.equal(health.failure, undefined);
});
