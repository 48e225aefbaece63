/**
 * The two-factor repository on the engine under test: a pending factor is never used, an enabled
 * one is never replaced by a new enrolment, steps only move forward, codes are used once, and
 * replacing codes or disabling leaves nothing of the old ones.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { openDatabase, type Database } from '../../src/db/connection.js';
import { DB } from '../../src/db/db.js';
import { migrateToLatest } from '../../src/db/migrations.js';
import { TwoFactorStore } from '../../src/db/two-factor.js';
import { freshDatabaseUrl } from '../support/databases.js';
import { FakeClock } from '../support/fakes.js';

const HASH = '$2b$04$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234';

describe('TwoFactorStore', () => {
  let database: Database;
  let db: DB;
  let store: TwoFactorStore;

  beforeEach(async () => {
    database = openDatabase(await freshDatabaseUrl());
    await migrateToLatest(database);
    db = new DB(database, new FakeClock());
    store = new TwoFactorStore(database.kysely);
  });
  afterEach(async () => {
    await database.kysely.destroy();
  });

  it('begins for an existing account only, replaces a pending secret, never an enabled one', async () => {
    const bob = await db.addUser('bob@example.com', HASH);
    assert.equal(await store.begin(bob.id + 100, 'sealed-0', 1), false);
    assert.equal(await store.begin(bob.id, 'sealed-1', 1), true);
    assert.equal(await store.begin(bob.id, 'sealed-2', 2), true);
    assert.deepEqual(await store.find(bob.id), {
      user_id: bob.id,
      secret_sealed: 'sealed-2',
      enabled_at: null,
      last_used_step: null,
      created_at: 2,
    });
    assert.equal(await store.useStep(bob.id, 10), false, 'a pending factor takes no code');
    assert.equal(
      await store.enable({
        userId: bob.id,
        secretSealed: 'sealed-1',
        step: 5,
        codeHashes: ['a'],
        now: 3,
      }),
      false,
      'not the pending secret',
    );
    assert.equal(
      await store.enable({
        userId: bob.id,
        secretSealed: 'sealed-2',
        step: 5,
        codeHashes: ['a', 'b'],
        now: 3,
      }),
      true,
    );
    assert.equal(await store.begin(bob.id, 'sealed-3', 4), false);
    const stored = await store.find(bob.id);
    assert.ok(stored);
    assert.equal(stored.secret_sealed, 'sealed-2');
    assert.equal(stored.enabled_at, 3);
    assert.equal(stored.last_used_step, 5);
    assert.equal(await store.countUnusedCodes(bob.id), 2);
  });

  it('uses only steps later than the last one used', async () => {
    const bob = await db.addUser('bob@example.com', HASH);
    await store.begin(bob.id, 'sealed', 1);
    await store.enable({
      userId: bob.id,
      secretSealed: 'sealed',
      step: 100,
      codeHashes: [],
      now: 1,
    });
    assert.equal(await store.useStep(bob.id, 100), false);
    assert.equal(await store.useStep(bob.id, 99), false);
    assert.equal(await store.useStep(bob.id, 101), true);
    assert.equal(await store.useStep(bob.id, 101), false);
    assert.equal(await store.useStep(bob.id, 103), true);
    assert.equal(await store.useStep(bob.id, 102), false);
    assert.equal((await store.find(bob.id))?.last_used_step, 103);
  });

  it('uses each code once, only its own account’s, and replaces or removes them all', async () => {
    const bob = await db.addUser('bob@example.com', HASH);
    const eve = await db.addUser('eve@example.com', HASH);
    for (const [user, codes] of [
      [bob, ['b1', 'b2']],
      [eve, ['e1']],
    ] as const) {
      await store.begin(user.id, 'sealed', 1);
      await store.enable({
        userId: user.id,
        secretSealed: 'sealed',
        step: 1,
        codeHashes: codes,
        now: 1,
      });
    }
    assert.equal(await store.useRecoveryCode(bob.id, 'e1', 2), false);
    assert.equal(await store.useRecoveryCode(bob.id, 'b1', 2), true);
    assert.equal(await store.useRecoveryCode(bob.id, 'b1', 3), false);
    assert.equal(await store.countUnusedCodes(bob.id), 1);
    assert.equal(await store.replaceCodes(bob.id, ['b3', 'b4', 'b5'], 4), true);
    assert.equal(await store.useRecoveryCode(bob.id, 'b2', 5), false, 'replaced');
    assert.equal(await store.countUnusedCodes(bob.id), 3);
    assert.equal(await store.disable(bob.id), true);
    assert.equal(await store.find(bob.id), undefined);
    assert.equal(await store.countUnusedCodes(bob.id), 0);
    assert.equal(await store.replaceCodes(bob.id, ['b6'], 6), false, 'no factor, no codes');
    assert.equal(await store.countUnusedCodes(bob.id), 0);
    assert.equal(await store.disable(bob.id), false);
    assert.equal(await store.countUnusedCodes(eve.id), 1, 'the other account is untouched');
    assert.equal(await db.deleteUser(eve.id), true);
    assert.equal(await store.find(eve.id), undefined);
    assert.equal(await store.countUnusedCodes(eve.id), 0);
  });
});
