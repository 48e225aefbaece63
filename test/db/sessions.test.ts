/**
 * The sessions repository on the engine under test: sessions open only for an account that
 * exists (and, when asked, still holds a password hash), the cap keeps the most recently seen,
 * and deleting an account deletes its sessions.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { openDatabase, type Database } from '../../src/db/connection.js';
import { DB } from '../../src/db/db.js';
import { migrateToLatest } from '../../src/db/migrations.js';
import type { NewSession } from '../../src/db/schema.js';
import { Sessions } from '../../src/db/sessions.js';
import { freshDatabaseUrl } from '../support/databases.js';
import { openSession } from '../support/sessions.js';
import { FakeClock } from '../support/fakes.js';

const HASH = '$2b$04$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234';
const OTHER_HASH = '$2b$04$zyxwvutsrqponmlkjihgfeZYXWVUTSRQPONMLKJIHGFEDCBA98765';

function session(userId: number, id: string, seenAt = 1000): NewSession {
  return {
    id,
    user_id: userId,
    token_digest: `digest-${id}`,
    created_at: 1000,
    last_seen_at: seenAt,
    expires_at: 1_000_000,
    ip: '192.0.2.1',
    user_agent: 'test',
    auth_method: 'password',
  };
}

describe('Sessions', () => {
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

  it('opens a session only for an existing account, and only while it holds the given hash', async () => {
    const bob = await db.addUser('bob@example.com', HASH);
    assert.equal(await openSession(sessions, session(bob.id + 100, 'nobody')), false);
    assert.equal(
      await openSession(sessions, session(bob.id, 'a'), { whilePasswordIs: OTHER_HASH }),
      false,
    );
    assert.equal(
      await openSession(sessions, session(bob.id, 'b'), { whilePasswordIs: HASH }),
      true,
    );
    assert.equal(await openSession(sessions, session(bob.id, 'c')), true);
    const stored = await sessions.listOf(bob.id);
    assert.deepEqual(stored.map((row) => row.id).sort(), ['b', 'c']);
    assert.deepEqual(
      stored.find((row) => row.id === 'b'),
      session(bob.id, 'b'),
    );
  });

  it('opens a session within its account’s cap, ending the least recently seen and the dead', async () => {
    const bob = await db.addUser('bob@example.com', HASH);
    const alice = await db.addUser('alice@example.com', HASH);
    await openSession(sessions, session(alice.id, 'alice', 10));
    for (const [id, seen] of [
      ['old', 100],
      ['mid', 200],
      ['recent', 300],
    ] as const)
      await openSession(sessions, session(bob.id, id, seen));
    const ended = await sessions.openWithinCap(
      session(bob.id, 'new', 400),
      {},
      { most: 3, liveness: { now: 500, seenAfter: 0, startedAfter: 0 } },
    );
    assert.deepEqual(ended, { overCap: ['old'], dead: [] });
    assert.deepEqual(
      (await sessions.listOf(bob.id)).map((row) => row.id),
      ['new', 'recent', 'mid'],
    );
    // Idle ones (seen at or before `seenAfter`) end even under the cap; the new one never does.
    const swept = await sessions.openWithinCap(
      session(bob.id, 'newest', 100),
      {},
      { most: 10, liveness: { now: 500, seenAfter: 350, startedAfter: 0 } },
    );
    assert.deepEqual(
      { overCap: swept?.overCap, dead: [...(swept?.dead ?? [])].sort() },
      { overCap: [], dead: ['mid', 'recent'] },
    );
    assert.deepEqual(
      (await sessions.listOf(bob.id)).map((row) => row.id),
      ['new', 'newest'],
    );
    assert.equal((await sessions.listOf(alice.id)).length, 1, 'another account is untouched');
  });

  it('opens nothing and ends nothing when the account no longer holds the hash', async () => {
    const bob = await db.addUser('bob@example.com', HASH);
    for (const id of ['a', 'b']) await openSession(sessions, session(bob.id, id));
    const ended = await sessions.openWithinCap(
      session(bob.id, 'c'),
      { whilePasswordIs: OTHER_HASH },
      { most: 1, liveness: { now: Date.now(), seenAfter: 0, startedAfter: 0 } },
    );
    assert.equal(ended, null);
    assert.deepEqual((await sessions.listOf(bob.id)).map((row) => row.id).sort(), ['a', 'b']);
  });

  it('gives a session a new token only while the account holds the given hash', async () => {
    const bob = await db.addUser('bob@example.com', HASH);
    await openSession(sessions, session(bob.id, 'a'));
    const replace = { id: 'a', userId: bob.id, fromDigest: 'digest-a', toDigest: 'digest-z' };
    assert.equal(await sessions.replaceToken({ ...replace, whilePasswordIs: OTHER_HASH }), false);
    assert.equal(await sessions.replaceToken({ ...replace, whilePasswordIs: HASH }), true);
    assert.equal(await sessions.replaceToken({ ...replace, whilePasswordIs: HASH }), false);
    assert.equal((await sessions.findWithAccount('digest-z'))?.session.id, 'a');
    assert.equal(await sessions.findWithAccount('digest-a'), undefined);
  });

  it('ends one, all but one, or all of an account’s sessions; deleting the account deletes them', async () => {
    const bob = await db.addUser('bob@example.com', HASH);
    const alice = await db.addUser('alice@example.com', HASH);
    for (const id of ['a', 'b', 'c', 'd']) await openSession(sessions, session(bob.id, id));
    await openSession(sessions, session(alice.id, 'alice'));
    assert.equal(await sessions.delete('digest-a'), true);
    assert.equal(await sessions.delete('digest-a'), false);
    assert.equal(await sessions.deleteOneOf(alice.id, 'b'), false, 'not another account’s');
    assert.equal(await sessions.deleteOneOf(bob.id, 'b'), true);
    assert.deepEqual(await sessions.deleteAllOfBut(bob.id, 'c'), ['d']);
    assert.deepEqual(
      (await sessions.listOf(bob.id)).map((row) => row.id),
      ['c'],
    );
    assert.deepEqual(await sessions.deleteAllOf(bob.id), ['c']);
    await openSession(sessions, session(bob.id, 'e'));
    assert.equal(await db.deleteUser(bob.id), true);
    assert.equal(await sessions.findWithAccount('digest-e'), undefined);
    assert.deepEqual(await sessions.listOf(bob.id), []);
    assert.equal((await sessions.listOf(alice.id)).length, 1);
  });
});
