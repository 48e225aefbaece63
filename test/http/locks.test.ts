/**
 * A write lock held by another connection (the CLI, a backup tool, another process): the service
 * waits for it without stopping its event loop, finishes the write once the lock is released, and
 * answers 503 with Retry-After when it is held past the deadline (5 s). On SQLite the lock is a
 * second connection's `BEGIN IMMEDIATE`; on PostgreSQL a `LOCK TABLE users IN SHARE MODE`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { openDatabase } from '../../src/db/connection.js';
import { migrateToLatest } from '../../src/db/migrations.js';
import { inspectableDatabase, TEST_ENGINE } from '../support/databases.js';
import { startTestService, submit } from '../support/service.js';

/**
 * What a waiting statement may cost the event loop. Each attempt holds it for at most
 * LOCK_STEP_MS (20 ms), so a free machine sees gaps near that; a loaded one (the whole suite, a
 * busy neighbour) stalls every process now and then for a few hundred ms. A wait done on the
 * event loop's thread (SQLite's busy handler left to wait the whole time) stops it for the whole
 * wait instead (1.5 s, or 5 s): so the bound is one second, and the loop must also have run at
 * least 10 of its 10 ms ticks a second (a loaded machine gave 24; a wait on the loop's thread
 * leaves about 3).
 */
const LONGEST_LOOP_GAP_MS = 1000;
const FEWEST_TICKS_PER_SECOND = 10;

interface HeldLock {
  release(): Promise<void>;
}

/** Takes the write lock that stops sign-ups, on a connection of its own. */
async function holdWriteLock(url: string): Promise<HeldLock> {
  if (TEST_ENGINE === 'sqlite') {
    const other = new SQLite(url.slice('sqlite:'.length));
    other.exec('BEGIN IMMEDIATE');
    return {
      release() {
        other.exec('COMMIT');
        other.close();
        return Promise.resolve();
      },
    };
  }
  const other = new pg.Client({ connectionString: url });
  await other.connect();
  await other.query('BEGIN');
  await other.query('LOCK TABLE users IN SHARE MODE');
  return {
    async release() {
      await other.query('COMMIT');
      await other.end();
    },
  };
}

/**
 * Watches a 10 ms timer until first stopped: the longest gap between its ticks, and how many ticks
 * ran per second of watching.
 */
function watchEventLoop(): { stop(): { longestGap: number; ticksPerSecond: number } } {
  const started = performance.now();
  let last = started;
  let longest = 0;
  let ticks = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    ticks += 1;
  }, 10);
  let stopped: { longestGap: number; ticksPerSecond: number } | undefined;
  return {
    stop() {
      clearInterval(ticker);
      const now = performance.now();
      stopped ??= {
        longestGap: Math.max(longest, now - last),
        ticksPerSecond: (ticks * 1000) / (now - started),
      };
      return stopped;
    },
  };
}

/** The event loop kept running while the statement waited. */
function assertLoopRan(watched: { longestGap: number; ticksPerSecond: number }): void {
  const { longestGap, ticksPerSecond } = watched;
  assert.ok(longestGap < LONGEST_LOOP_GAP_MS, `the event loop stopped for ${longestGap} ms`);
  assert.ok(
    ticksPerSecond >= FEWEST_TICKS_PER_SECOND,
    `the event loop ran only ${ticksPerSecond.toFixed(0)} times a second`,
  );
}

test('a sign-up waits out another connection’s write lock without stopping the event loop', async () => {
  const database = await inspectableDatabase();
  const { app } = await startTestService({ DATABASE_URL: database.url });
  const lock = await holdWriteLock(database.url);
  let released = false;
  const loop = watchEventLoop();
  const releasing = new Promise<void>((resolve, reject) => {
    setTimeout(() => {
      released = true;
      lock.release().then(resolve, reject);
    }, 1500);
  });
  const signUp = await submit(app, 'POST', '/users', {
    email: 'waiting@example.com',
    password: 'correct horse',
  }).finally(() => loop.stop());
  const watched = loop.stop();
  await releasing;
  assert.equal(signUp.statusCode, 200, signUp.body);
  assert.ok(released, 'the sign-up finished after the lock was released');
  assertLoopRan(watched);
  const rows = await database.rows("SELECT email FROM users WHERE email = 'waiting@example.com'");
  assert.equal(rows.length, 1);
});

test('a write lock held past the deadline answers 503 with Retry-After', async () => {
  const database = await inspectableDatabase();
  const { app } = await startTestService({ DATABASE_URL: database.url });
  const lock = await holdWriteLock(database.url);
  const loop = watchEventLoop();
  try {
    const signUp = await submit(app, 'POST', '/users', {
      email: 'late@example.com',
      password: 'correct horse',
    });
    const watched = loop.stop();
    assert.equal(signUp.statusCode, 503, signUp.body);
    assert.equal(signUp.headers['retry-after'], '5');
    assert.match(signUp.json<{ message: string }>().message, /temporarily unavailable/);
    assertLoopRan(watched);
  } finally {
    loop.stop();
    await lock.release();
  }
  const again = await submit(app, 'POST', '/users', {
    email: 'after@example.com',
    password: 'correct horse',
  });
  assert.equal(again.statusCode, 200, 'service resumes once the lock is gone');
});

test(
  'SQLite: a transaction waits for the write lock at its BEGIN, off the event loop',
  { skip: TEST_ENGINE !== 'sqlite' },
  async () => {
    const file = (await inspectableDatabase()).url;
    const database = openDatabase(file);
    await migrateToLatest(database);
    const lock = await holdWriteLock(file);
    const loop = watchEventLoop();
    setTimeout(() => void lock.release(), 500);
    const now = Date.now();
    try {
      await database.kysely.transaction().execute(async (transaction) => {
        assert.ok(database.sqlite?.inTransaction, 'BEGIN IMMEDIATE took the lock');
        await transaction
          .insertInto('users')
          .values({
            email: 'tx@example.com',
            hashed_password: 'x',
            created_at: now,
            updated_at: now,
          })
          .execute();
      });
      assertLoopRan(loop.stop());
      const rows = await database.kysely.selectFrom('users').select('email').execute();
      assert.deepEqual(rows, [{ email: 'tx@example.com' }]);
    } finally {
      loop.stop();
      await database.kysely.destroy();
    }
  },
);
