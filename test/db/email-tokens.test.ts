/**
 * The email tokens repository on the engine under test: a token is used once, only for its
 * purpose and before its end, of concurrent uses exactly one gets its row, and an account's
 * tokens go with it (or with deleteAllOf, by purpose), no other account's.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { openDatabase, type Database } from '../../src/db/connection.js';
import { DB } from '../../src/db/db.js';
import { EmailTokens } from '../../src/db/email-tokens.js';
import { migrateToLatest } from '../../src/db/migrations.js';
import { freshDatabaseUrl } from '../support/databases.js';
import { FakeClock } from '../support/fakes.js';

const HASH = '$2b$04$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234';

describe('EmailTokens', () => {
  let database: Database;
  let db: DB;
  let tokens: EmailTokens;

  beforeEach(async () => {
    database = openDatabase(await freshDatabaseUrl());
    await migrateToLatest(database);
    db = new DB(database, new FakeClock());
    tokens = new EmailTokens(database.kysely);
  });
  afterEach(async () => {
    await database.kysely.destroy();
  });

  const token = (userId: number, tokenDigest: string, purpose: 'verify' | 'change' = 'verify') =>
    tokens.create({
      tokenDigest,
      userId,
      purpose,
      email: 'a@example.com',
      now: 1000,
      expiresAt: 2000,
    });

  it('is used once, for its purpose, before its end', async () => {
    const { id } = await db.addUser('a@example.com', HASH);
    await token(id, 'd1');
    assert.equal(await tokens.use('d1', 'change', 1500), undefined, 'not for another purpose');
    assert.equal(await tokens.use('d1', 'verify', 2000), undefined, 'not at its end');
    const row = await tokens.use('d1', 'verify', 1999);
    assert.equal(row?.user_id, id);
    assert.equal(row.email, 'a@example.com');
    assert.equal(await tokens.use('d1', 'verify', 1999), undefined, 'not twice');
  });

  it('of concurrent uses, exactly one gets the row', async () => {
    const { id } = await db.addUser('a@example.com', HASH);
    await token(id, 'd2');
    const uses = await Promise.all(
      Array.from({ length: 8 }, () => tokens.use('d2', 'verify', 1500)),
    );
    assert.equal(uses.filter((row) => row !== undefined).length, 1);
  });

  it('goes with its account, or by purpose, and never another account’s', async () => {
    const a = await db.addUser('a@example.com', HASH);
    const b = await db.addUser('b@example.com', HASH);
    await token(a.id, 'a-verify');
    await token(a.id, 'a-change', 'change');
    await token(b.id, 'b-verify');
    await tokens.deleteAllOf(a.id, 'change');
    assert.equal(await tokens.use('a-change', 'change', 1500), undefined);
    await db.deleteUser(a.id);
    assert.equal(
      await tokens.use('a-verify', 'verify', 1500),
      undefined,
      'deleted with its account',
    );
    assert.ok(await tokens.use('b-verify', 'verify', 1500));
  });
});
