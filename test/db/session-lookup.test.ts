import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { digestToken, generateUuid } from '../../src/auth/tokens.js';
import { openDatabase, type Database } from '../../src/db/connection.js';
import { DB } from '../../src/db/db.js';
import { DatabaseUnavailableError } from '../../src/db/errors.js';
import { migrateToLatest } from '../../src/db/migrations.js';
import { batchLookups, type Row } from '../../src/db/session-lookup.js';
import { freshDatabaseUrl } from '../support/databases.js';
import { FakeClock } from '../support/fakes.js';

const HASH = '$2b$04$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234';

/** A row of `users` for `sessionDigest`, as the drivers return it. */
function rowFor(id: number, sessionDigest: string): Row {
  const email = `user${id}@example.com`;
  return [id, email, HASH, sessionDigest, 1, 1, null, null, 1, 1, email];
}

describe('batchLookups', () => {
  it('answers the lookups of one round with one read of their distinct sessions', async () => {
    const reads: string[][] = [];
    const lookup = batchLookups(256, (digests) => {
      reads.push(digests);
      return Promise.resolve(
        digests.filter((digest) => digest !== 'unknown').map((d, i) => rowFor(i + 1, d)),
      );
    });

    const asked = ['a', 'b', 'a', 'unknown', 'c', 'b'];
    const users = await Promise.all(asked.map((digest) => lookup(digest)));

    assert.deepEqual(reads, [['a', 'b', 'unknown', 'c']]);
    assert.deepEqual(
      users.map((user) => user?.session_id),
      ['a', 'b', 'a', undefined, 'c', 'b'],
    );
    assert.equal(users[0], users[2], 'one row answers every lookup of the same session');
  });

  it('reads again for every later round: nothing is cached', async () => {
    let reads = 0;
    let present = true;
    const lookup = batchLookups(256, (digests) => {
      reads += 1;
      return Promise.resolve(present ? digests.map((d) => rowFor(1, d)) : []);
    });

    assert.equal((await lookup('a'))?.id, 1);
    present = false;
    assert.equal(await lookup('a'), undefined);
    assert.equal(reads, 2);
  });

  it('splits a round larger than the most per read into several reads', async () => {
    const sizes: number[] = [];
    const lookup = batchLookups(4, (digests) => {
      sizes.push(digests.length);
      return Promise.resolve(digests.map((d, i) => rowFor(i, d)));
    });

    const digests = Array.from({ length: 10 }, (_, i) => `s${i}`);
    const users = await Promise.all(digests.map((digest) => lookup(digest)));

    assert.deepEqual(sizes, [4, 4, 2]);
    assert.deepEqual(
      users.map((user) => user?.session_id),
      digests,
    );
  });

  it("fails every lookup of a round whose read fails, with the data layer's error", async () => {
    const lost = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    let fail = true;
    const lookup = batchLookups(256, (digests) => {
      if (fail) throw lost;
      return Promise.resolve(digests.map((d) => rowFor(1, d)));
    });

    const results = await Promise.allSettled([lookup('a'), lookup('b')]);
    for (const result of results) {
      assert.equal(result.status, 'rejected');
      assert.ok(result.reason instanceof DatabaseUnavailableError);
      assert.equal(result.reason.cause, lost);
    }
    fail = false;
    assert.equal((await lookup('a'))?.session_id, 'a', 'the next round reads again');
  });
});

describe('findUserBySessionDigest under concurrent lookups', () => {
  let database: Database;
  let db: DB;

  beforeEach(async () => {
    database = openDatabase(await freshDatabaseUrl());
    await migrateToLatest(database);
    db = new DB(database, new FakeClock());
  });
  afterEach(async () => {
    await database.kysely.destroy();
  });

  it('gives each lookup its own user, and nothing for unknown or ended sessions', async () => {
    const sessions = new Map<string, number>();
    for (let i = 0; i < 12; i += 1) {
      const user = await db.addUser(`user${i}@example.com`, HASH);
      const digest = digestToken(generateUuid());
      await db.updateUser(user.id, { session_id: digest, session_created_at: 1 });
      sessions.set(digest, user.id);
    }
    const known = [...sessions.keys()];
    const unknown = Array.from({ length: 5 }, () => digestToken(generateUuid()));
    // Every known session three times over, interleaved with unknown ones.
    const asked = [...known, ...unknown, ...known, ...known].sort();

    const users = await Promise.all(asked.map((digest) => db.findUserBySessionDigest(digest)));

    asked.forEach((digest, i) => assert.equal(users[i]?.id, sessions.get(digest)));
    assert.equal(users.filter((user) => user === undefined).length, unknown.length);

    const [ended] = known as [string];
    await db.updateUser(sessions.get(ended) ?? 0, { session_id: null });
    assert.equal(await db.findUserBySessionDigest(ended), undefined);
  });
});
