/**
 * Migration 0005 (email comparison keys) on a database that the previous version left, with the
 * rows it could hold: an address its normalization stored out of NFC, and accounts that are
 * look-alikes of each other. Nothing is changed silently, everything is reported by id, and
 * every account can still log in.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import bcrypt from 'bcrypt';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { openDatabase, type Database } from '../../src/db/connection.js';
import { inspectableDatabase } from '../support/databases.js';
import { migrateUpTo } from '../support/migrations.js';
import { startTestService } from '../support/service.js';

interface Warning {
  details: Record<string, unknown>;
  message: string;
}

/** A database migrated as the previous version did, holding `accounts` (email → password). */
async function previousVersionWith(accounts: readonly (readonly [string, string])[]) {
  const inspectable = await inspectableDatabase();
  const database = openDatabase(inspectable.url);
  await migrateUpTo(database, '0004_partial_token_indexes');
  const ids: number[] = [];
  for (const [email, password] of accounts) {
    const hash = await bcrypt.hash(password, 4);
    const { rows } = await sql<{ id: number }>`
      INSERT INTO users (email, hashed_password, created_at, updated_at)
      VALUES (${email}, ${hash}, 1, 1) RETURNING id`.execute(database.kysely);
    ids.push(Number(rows[0]?.id));
  }
  return { inspectable, database, ids };
}

async function migrateLogging(database: Database): Promise<Warning[]> {
  const warnings: Warning[] = [];
  const log = {
    warn: (details: object, message: string) => {
      warnings.push({ details: details as Record<string, unknown>, message });
    },
  };
  // Up to 0005 only: the later migrations would be run again by the test of a run cut short.
  const result = await migrateUpTo(database, '0005_email_keys', { log });
  assert.deepEqual(
    result.results?.map((migration) => [migration.migrationName, migration.status]),
    [['0005_email_keys', 'Success']],
  );
  return warnings;
}

const logIn = (app: FastifyInstance, email: string, password: string) =>
  app.inject({ method: 'POST', url: '/sessions', payload: { email, password } });

describe('migration 0005_email_keys on a database of the previous version', () => {
  const ALICE = 'alice@example.com';
  const FULLWIDTH_ALICE = '\uff41\uff4c\uff49\uff43\uff45@example.com';
  // What the previous normalization (NFC, then lower case) stored for "T\u0308om@example.com".
  const DECOMPOSED_TOM = 't\u0308om@example.com';
  const ASCII_BOB = 'bob@xn--bcher-kva.de';
  const UNICODE_BOB = 'bob@b\u00fccher.de';
  const CAROL = 'carol@example.com';
  const accounts = [
    [ALICE, 'alice password'],
    [FULLWIDTH_ALICE, 'fullwidth alice password'],
    [DECOMPOSED_TOM, 'tom password'],
    [ASCII_BOB, 'ascii bob password'],
    [UNICODE_BOB, 'unicode bob password'],
    [CAROL, 'carol password'],
  ] as const;

  test('reports by id, never by address, what it found, and changes no address', async () => {
    const { inspectable, database, ids } = await previousVersionWith(accounts);
    const [alice, fullwidth, tom, asciiBob, unicodeBob, carol] = ids;
    try {
      const warnings = await migrateLogging(database);

      const notNormal = warnings.find((warning) => /normal form/.test(warning.message));
      assert.deepEqual(notNormal?.details, { count: 1, ids: [tom] });
      const collisions = warnings.find((warning) => /compare equal/.test(warning.message));
      assert.ok(collisions);
      assert.equal(collisions.details.count, 2);
      const groups = collisions.details.collisions as { kept: number; others: number[] }[];
      assert.deepEqual(
        [...groups].sort((a, b) => a.kept - b.kept),
        [
          { kept: alice, others: [fullwidth] },
          { kept: asciiBob, others: [unicodeBob] },
        ],
      );
      const logged = JSON.stringify(warnings);
      assert.doesNotMatch(logged, /@|alice|bob|tom|carol|\uff41/);
      assert.equal(warnings.length, 2);

      const rows = await inspectable.rows('SELECT id, email, email_key FROM users ORDER BY id');
      assert.deepEqual(rows, [
        { id: alice, email: ALICE, email_key: ALICE },
        { id: fullwidth, email: FULLWIDTH_ALICE, email_key: null },
        { id: tom, email: DECOMPOSED_TOM, email_key: '\u1e97om@example.com' },
        { id: asciiBob, email: ASCII_BOB, email_key: ASCII_BOB },
        { id: unicodeBob, email: UNICODE_BOB, email_key: null },
        { id: carol, email: CAROL, email_key: CAROL },
      ]);
    } finally {
      await database.kysely.destroy();
    }
  });

  test('every account still logs in with its own address, and look-alikes reach the kept one', async () => {
    const { inspectable, database } = await previousVersionWith(accounts);
    await migrateLogging(database);
    await database.kysely.destroy();
    const { app } = await startTestService({ DATABASE_URL: inspectable.url });

    for (const [email, password] of accounts) {
      const typed = email === DECOMPOSED_TOM ? 'T\u0308om@example.com' : email;
      const login = await logIn(app, typed, password);
      assert.equal(login.statusCode, 200, `${typed}: ${login.body}`);
      assert.equal(login.json<{ email: string }>().email, email);
    }
    // The colliding account is found by its exact address, whatever the case it is typed in.
    const upper = await logIn(app, FULLWIDTH_ALICE.toUpperCase(), 'fullwidth alice password');
    assert.equal(upper.json<{ email: string }>().email, FULLWIDTH_ALICE);
    // Any other look-alike is the account that kept the key.
    const bold = await logIn(app, '\u{1d41a}lice@example.com', 'alice password');
    assert.equal(bold.json<{ email: string }>().email, ALICE);
    assert.equal((await logIn(app, '\u1e97om@example.com', 'tom password')).statusCode, 200);
    // And no new look-alike account can be made.
    for (const email of ['\u{1d41a}lice@example.com', FULLWIDTH_ALICE, UNICODE_BOB]) {
      const signUp = await app.inject({
        method: 'POST',
        url: '/users',
        payload: { email, password: 'another good password' },
      });
      assert.deepEqual(signUp.json(), { message: 'email already registered' }, email);
    }
  });

  test('of colliding accounts, one stored in today’s normal form keeps the key, even if younger', async () => {
    const { inspectable, database, ids } = await previousVersionWith([
      [DECOMPOSED_TOM, 'old tom password'],
      ['\u1e97om@example.com', 'new tom password'],
    ]);
    try {
      const warnings = await migrateLogging(database);
      const collisions = warnings.find((warning) => /compare equal/.test(warning.message));
      assert.deepEqual(collisions?.details.collisions, [{ kept: ids[1], others: [ids[0]] }]);
      assert.deepEqual(await inspectable.rows('SELECT email_key FROM users ORDER BY id'), [
        { email_key: null },
        { email_key: '\u1e97om@example.com' },
      ]);
    } finally {
      await database.kysely.destroy();
    }
  });

  test('completes when a run of it was cut short, with the same keys', async () => {
    const { inspectable, database } = await previousVersionWith(accounts);
    try {
      await migrateLogging(database);
      const keys = await inspectable.rows('SELECT id, email_key FROM users ORDER BY id');
      // As if the process died after the keys were filled, before the index and the record.
      await sql`DROP INDEX users_email_key_key`.execute(database.kysely);
      await sql`DELETE FROM kysely_migration WHERE name = '0005_email_keys'`.execute(
        database.kysely,
      );
      await migrateLogging(database);
      assert.deepEqual(await inspectable.rows('SELECT id, email_key FROM users ORDER BY id'), keys);
    } finally {
      await database.kysely.destroy();
    }
  });
});
