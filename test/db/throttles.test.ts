/**
 * Throttles.attempt, the one statement that counts an attempt and decides whether it may proceed:
 * the backoff it sets, the window it forgets, and its decisions under concurrency, on the engine
 * under test.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openDatabase, type Database } from '../../src/db/connection.js';
import { migrateToLatest } from '../../src/db/migrations.js';
import { Throttles } from '../../src/db/throttles.js';
import { freshDatabaseUrl } from '../support/databases.js';

const DAY_MS = 24 * 3600 * 1000;
const START = Date.UTC(2026, 0, 1);

describe('Throttles.attempt', () => {
  let database: Database;
  let throttles: Throttles;
  before(async () => {
    database = openDatabase(await freshDatabaseUrl(), { poolSize: 10 });
    await migrateToLatest(database);
    throttles = new Throttles(database.kysely);
  });
  after(() => database.kysely.destroy());

  const policy = (now: number) => ({ now, windowMs: DAY_MS, freeAttempts: 3, maxDelayMs: 4000 });

  it('lets `freeAttempts` through, then blocks for 1 s, 2 s, 4 s, 4 s, and refusals count nothing', async () => {
    let now = START;
    for (let i = 0; i < 3; i += 1) {
      assert.deepEqual(await throttles.attempt('t', 'backoff', policy(now)), { allowed: true });
    }
    const waits = [];
    for (let i = 0; i < 4; i += 1) {
      const refused = await throttles.attempt('t', 'backoff', policy(now));
      if (refused.allowed) assert.fail(`attempt ${i + 4} was let through`);
      // Refused again at once: still the same wait, the refusal having counted nothing.
      assert.deepEqual(await throttles.attempt('t', 'backoff', policy(now)), refused);
      const wait = refused.retryAfterMs;
      waits.push(wait);
      now += wait;
      assert.deepEqual(await throttles.attempt('t', 'backoff', policy(now)), { allowed: true });
    }
    assert.deepEqual(waits, [1000, 2000, 4000, 4000]);
    const row = await throttles.get('t', 'backoff');
    assert.equal(row?.count, 7);
  });

  it('forgets a streak whose window has run out, block and all', async () => {
    for (let i = 0; i < 3; i += 1) await throttles.attempt('t', 'window', policy(START));
    assert.equal((await throttles.attempt('t', 'window', policy(START))).allowed, false);
    const later = START + DAY_MS;
    assert.deepEqual(await throttles.attempt('t', 'window', policy(later)), { allowed: true });
    const row = await throttles.get('t', 'window');
    assert.deepEqual([row?.count, row?.window_started_at, row?.blocked_until], [1, later, null]);
  });

  it('of 50 concurrent attempts, exactly `freeAttempts` are let through', async () => {
    const decisions = await Promise.all(
      Array.from({ length: 50 }, () => throttles.attempt('t', 'burst', policy(START))),
    );
    assert.equal(decisions.filter((decision) => decision.allowed).length, 3);
    assert.equal((await throttles.get('t', 'burst'))?.count, 3);
  });
});
