import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { digestToken, generateUuid } from '../../src/auth/tokens.js';
import { openDatabase, type Database } from '../../src/db/connection.js';
import { DB } from '../../src/db/db.js';
import { Sessions } from '../../src/db/sessions.js';
import { DatabaseUnavailableError } from '../../src/db/errors.js';
import { migrateToLatest } from '../../src/db/migrations.js';
import { batchLookups, type Row } from '../../src/db/session-lookup.js';
import { freshDatabaseUrl } from '../support/databases.js';
import { openSession } from '../support/sessions.js';
import { FakeClock } from '../support/fakes.js';

const HASH = '$2b$04$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234';

/** A row of the join of `sessions` and `users` for `sessionDigest`, as the drivers return it. */
function rowFor(id: number, sessionDigest: string): Row {
  const email = `user${id}@example.com`;
  return [
    id,
    email,
    HASH,
    null,
    null,
    1,
    1,
    email,
    null,
    0,
    `s${id}`,
    sessionDigest,
    1,
    1,
    9,
    null,
    null,
    'password',
    null,
  ];
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
      users.map((user) => user?.session.token_digest),
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

    assert.equal((await lookup('a'))?.user.id, 1);
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
      users.map((user) => user?.session.token_digest),
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
    assert.equal((await lookup('a'))?.session.token_digest, 'a', 'the next round reads again');
  });
});

describe('Sessions.findWithAccount under concurrent lookups', () => {
  let database: Database;
  let db: DB;
  let sessions: Sessions;

  beforeEach(async () => {
    database = openDatabase(await freshDatabaseUrl());
    await migrateToLatest(database);
    db = new DB(database, new FakeClock());
    sessions = new Sessions(database);
  });
  afterEach(async () => {
    await database.kysely.destroy();
  });

  it('gives each lookup its own session and user, and nothing for unknown or ended sessions', async () => {
    const owners = new Map<string, number>();
    for (let i = 0; i < 12; i += 1) {
      const user = await db.addUser(`user${i}@example.com`, HASH);
      // Two sessions each: a lookup must find the one asked for, not another of the account.
      for (let j = 0; j < 2; j += 1) {
        const digest = digestToken(generateUuid());
        const opened = await openSession(sessions, {
          id: `session-${i}-${j}`,
          user_id: user.id,
          token_digest: digest,
          created_at: 1,
          last_seen_at: 1,
          expires_at: 2,
          ip: null,
          user_agent: null,
          auth_method: 'password',
        });
        assert.equal(opened, true);
        owners.set(digest, user.id);
      }
    }
    const known = [...owners.keys()];
    const unknown = Array.from({ length: 5 }, () => digestToken(generateUuid()));
    // Every known session three times over, interleaved with unknown ones.
    const asked = [...known, ...unknown, ...known, ...known].sort();

    const found = await Promise.all(asked.map((digest) => sessions.findWithAccount(digest)));

    asked.forEach((digest, i) => {
      assert.equal(found[i]?.user.id, owners.get(digest));
      assert.equal(found[i]?.session.user_id, owners.get(digest));
      assert.equal(found[i]?.session.token_digest, found[i] && digest);
    });
    assert.equal(found.filter((entry) => entry === undefined).length, unknown.length);

    const [ended] = known as [string];
    assert.equal(await sessions.delete(ended), true);
    assert.equal(await sessions.findWithAccount(ended), undefined);
  });

  it('says in the same read whether the account has two-factor authentication on', async () => {
    const digests: string[] = [];
    for (const [i, state] of (['none', 'pending', 'on'] as const).entries()) {
      const user = await db.addUser(`factor${i}@example.com`, HASH);
      if (state !== 'none') {
        await database.kysely
          .insertInto('two_factor')
          .values({
            user_id: user.id,
            secret_sealed: 'sealed',
            enabled_at: state === 'on' ? 5 : null,
            last_used_step: null,
            created_at: 1,
          })
          .execute();
      }
      const digest = digestToken(generateUuid());
      await openSession(sessions, {
        id: `factor-${i}`,
        user_id: user.id,
        token_digest: digest,
        created_at: 1,
        last_seen_at: 1,
        expires_at: 2,
        ip: null,
        user_agent: null,
        auth_method: 'password',
      });
      digests.push(digest);
    }
    const found = await Promise.all(digests.map((digest) => sessions.findWithAccount(digest)));
    assert.deepEqual(
      found.map((entry) => entry?.twoFactorOn),
      [false, false, true],
    );
  });
});
