/**
 * The login challenges repository on the engine under test: a challenge is made only while the
 * account holds the password hash just verified, takes a bounded number of attempts, is claimed
 * once, and a session bound to it opens only while it is there; ending an account's challenges
 * ends the claimed ones too, and no other account's.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { openDatabase, type Database } from '../../src/db/connection.js';
import { DB } from '../../src/db/db.js';
import { LoginChallenges } from '../../src/db/login-challenges.js';
import { migrateToLatest } from '../../src/db/migrations.js';
import { Sessions } from '../../src/db/sessions.js';
import { freshDatabaseUrl } from '../support/databases.js';
import { openSession } from '../support/sessions.js';
import { FakeClock } from '../support/fakes.js';

const HASH = '$2b$04$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234';
const OTHER_HASH = '$2b$04$zyxwvutsrqponmlkjihgfeZYXWVUTSRQPONMLKJIHGFEDCBA98765';
const LIVE = { now: 1000, most: 5 };

describe('LoginChallenges', () => {
  let database: Database;
  let db: DB;
  let challenges: LoginChallenges;
  let sessions: Sessions;

  beforeEach(async () => {
    database = openDatabase(await freshDatabaseUrl());
    await migrateToLatest(database);
    db = new DB(database, new FakeClock());
    challenges = new LoginChallenges(database.kysely);
    sessions = new Sessions(database);
  });
  afterEach(async () => {
    await database.kysely.destroy();
  });

  const challenge = (userId: number, tokenDigest: string, whilePasswordIs = HASH) =>
    challenges.create({ tokenDigest, userId, now: 1000, expiresAt: 2000, whilePasswordIs });

  /** Opens a session of `userId` bound to challenge `tokenDigest`; returns whether it did. */
  const sessionFor = (userId: number, tokenDigest: string) =>
    openSession(
      sessions,
      {
        id: `session-of-${tokenDigest}`,
        user_id: userId,
        token_digest: `session-${tokenDigest}`,
        created_at: 1000,
        last_seen_at: 1000,
        expires_at: 10_000,
        ip: null,
        user_agent: null,
        auth_method: 'password+totp',
      },
      { whileChallengeIs: tokenDigest },
    );

  it('makes a challenge only while the account holds the password hash just verified', async () => {
    const bob = await db.addUser('bob@example.com', HASH);
    assert.equal(await challenge(bob.id, 'old', OTHER_HASH), false, 'a reset won meanwhile');
    assert.equal(await challenge(bob.id + 100, 'nobody'), false);
    assert.equal(await challenge(bob.id, 'right'), true);
    assert.equal(await challenges.spendAttempt('old', LIVE), undefined);
    assert.deepEqual(await challenges.spendAttempt('right', LIVE), { userId: bob.id, attempts: 1 });
  });

  it('is claimed once, and takes no attempt once claimed', async () => {
    const bob = await db.addUser('bob@example.com', HASH);
    await challenge(bob.id, 'c');
    const claims = await Promise.all(Array.from({ length: 5 }, () => challenges.claim('c')));
    assert.equal(claims.filter(Boolean).length, 1, JSON.stringify(claims));
    assert.equal(await challenges.spendAttempt('c', LIVE), undefined);
    assert.equal(await challenges.claim('unknown'), false);
  });

  it('opens a session bound to a challenge only while the challenge is there', async () => {
    const bob = await db.addUser('bob@example.com', HASH);
    const eve = await db.addUser('eve@example.com', HASH);
    await challenge(bob.id, 'unclaimed');
    await challenge(bob.id, 'ended');
    await challenge(eve.id, 'eves');
    assert.equal(await challenges.claim('ended'), true);
    await challenges.deleteAllOf(bob.id);
    assert.equal(await sessionFor(bob.id, 'ended'), false, 'a claimed challenge ends too');
    assert.equal(await sessionFor(bob.id, 'unclaimed'), false);
    assert.equal(await sessionFor(bob.id, 'eves'), false, "another account's challenge");
    assert.equal(await sessionFor(eve.id, 'eves'), true, "the other account's stays");
    assert.deepEqual(
      (await sessions.listOf(eve.id)).map((row) => row.id),
      ['session-of-eves'],
    );
    assert.deepEqual(await sessions.listOf(bob.id), []);
  });
});
