/**
 * `bienvenue users import` and `bienvenue users export`, run as real processes on a fresh database
 * of the engine under test; what they stored is checked by logging in over HTTP in-process.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { argon2idHasher, bcryptHasher } from '../../src/auth/password-hashing.js';
import {
  csvFields,
  csvField,
  hashFormatProblem,
  readAccount,
} from '../../src/auth/account-import.js';
import { freshDatabaseUrl, inspectableDatabase } from '../support/databases.js';
import { temporaryDirectory } from '../support/files.js';
import { startTestService, submit } from '../support/service.js';
import { runCli } from './run-cli.js';

const ARGON2 = { memoryKib: 1024, iterations: 1, parallelism: 1 };

/** A file in a fresh folder holding `lines`. */
function fileOf(name: string, lines: readonly string[]): string {
  const path = join(temporaryDirectory(), name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

async function cliDatabase(): Promise<Record<string, string>> {
  const url = await freshDatabaseUrl({ sqliteFile: join(temporaryDirectory(), 'import.db') });
  return { DATABASE_URL: url, BCRYPT_ROUNDS: '4' };
}

describe('users import', () => {
  test('bcrypt and argon2id accounts log in with their old passwords; a weaker hash is upgraded', async () => {
    const database = await inspectableDatabase();
    const env = { DATABASE_URL: database.url, BCRYPT_ROUNDS: '4' };
    const bcryptHash = await bcryptHasher(4).hash('old bcrypt password');
    const argon2Hash = await argon2idHasher(ARGON2).hash('old argon2 password');
    const file = fileOf('accounts.jsonl', [
      JSON.stringify({
        email: 'Ada@Example.com',
        password_hash: bcryptHash,
        created_at: '2020-01-02T03:04:05Z',
      }),
      JSON.stringify({
        email: 'grace@example.com',
        password_hash: argon2Hash,
        email_verified: true,
      }),
      JSON.stringify({
        email: 'linus@example.com',
        password_hash: bcryptHash.replace('$2b$', '$2y$'),
      }),
    ]);
    const result = await runCli(['users', 'import', file], env);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /Imported 3 accounts/);
    assert.match(result.stderr, /importing: 100%/);
    const rows = await database.rows(
      'SELECT email, created_at, email_verified_at FROM users ORDER BY email',
    );
    assert.deepEqual(
      rows.map((row) => row.email),
      ['ada@example.com', 'grace@example.com', 'linus@example.com'],
    );
    assert.deepEqual(
      rows.map((row) => row.email_verified_at !== null),
      [false, true, false],
      'email_verified: true proves the address; absent does not',
    );
    assert.equal(Number(rows[0]?.created_at), Date.parse('2020-01-02T03:04:05Z'));

    const { app, admin } = await startTestService({
      DATABASE_URL: database.url,
      BCRYPT_ROUNDS: '5',
    });
    const logIn = (email: string, password: string) =>
      submit(app, 'POST', '/sessions', { email, password });
    assert.equal((await logIn('ada@example.com', 'old bcrypt password')).statusCode, 200);
    assert.equal((await logIn('grace@example.com', 'old argon2 password')).statusCode, 200);
    assert.equal((await logIn('linus@example.com', 'old bcrypt password')).statusCode, 200);
    assert.equal((await logIn('ada@example.com', 'wrong password')).statusCode, 401);
    const hashes = await database.rows('SELECT email, hashed_password FROM users ORDER BY email');
    assert.match(String(hashes[0]?.hashed_password), /^\$2b\$05\$/, 'cost 4 upgraded to 5');
    assert.equal((await admin.events({ type: 'password_rehashed', limit: 10 })).length, 3);
  });

  test('--dry-run reports every bad line by number and stores nothing', async () => {
    const env = await cliDatabase();
    const hash = await bcryptHasher(4).hash('pw');
    assert.equal(
      (
        await runCli(['users', 'add', 'taken@example.com', '--password-stdin'], env, {
          input: 'correct horse',
        })
      ).status,
      0,
    );
    const file = fileOf('bad.jsonl', [
      JSON.stringify({ email: 'good@example.com', password_hash: hash }),
      JSON.stringify({ email: 'not an email', password_hash: hash }),
      '',
      JSON.stringify({
        email: 'md5@example.com',
        password_hash: '5f4dcc3b5aa765d61d8327deb882cf99',
      }),
      JSON.stringify({ email: 'GOOD@example.com', password_hash: hash }),
      JSON.stringify({ email: 'taken@example.com', password_hash: hash }),
      '{"email": ',
    ]);
    const result = await runCli(['users', 'import', file, '--dry-run'], env);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /Checked 6 lines: 1 good .* 5 bad\. Nothing stored/);
    assert.match(result.stderr, /^line 2: bad email "not an email"$/m);
    assert.match(result.stderr, /^line 4: unknown password hash format/m);
    assert.match(result.stderr, /^line 5: duplicate of line 1 \(good@example\.com\)$/m);
    assert.match(
      result.stderr,
      /^line 6: taken@example\.com already has an account in the database$/m,
    );
    assert.match(result.stderr, /^line 7: not a JSON object$/m);
    const exported = await runCli(['users', 'export'], env);
    assert.doesNotMatch(exported.stdout, /good@example\.com/);
  });

  test('a real run refuses a file with a bad line unless --skip-invalid; a second run adds no duplicates', async () => {
    const env = await cliDatabase();
    const hash = await bcryptHasher(4).hash('pw');
    const file = fileOf('mixed.jsonl', [
      JSON.stringify({ email: 'one@example.com', password_hash: hash }),
      JSON.stringify({ email: 'two@example.com', password_hash: 'plain text' }),
      JSON.stringify({ email: 'three@example.com', password_hash: hash }),
    ]);
    const refused = await runCli(['users', 'import', file], env);
    assert.equal(refused.status, 4);
    assert.match(refused.stderr, /^line 2: unknown password hash format/m);
    assert.match(refused.stderr, /1 of 3 lines are bad: nothing imported/);
    assert.equal((await runCli(['users', 'list'], env)).stdout.includes('one@example.com'), false);

    const skipped = await runCli(['users', 'import', file, '--skip-invalid'], env);
    assert.equal(skipped.status, 0, skipped.stderr);
    assert.match(skipped.stdout, /Imported 2 accounts \(0 already imported, 1 bad lines skipped\)/);
    const again = await runCli(['users', 'import', file, '--skip-invalid'], env);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /Imported 0 accounts \(2 already imported, 1 bad lines skipped\)/);
    const exported = await runCli(['users', 'export'], env);
    assert.equal(exported.stdout.trim().split('\n').length, 2);
  });

  test('with --skip-invalid, an account already there with another hash is a bad line and keeps its hash', async () => {
    const env = await cliDatabase();
    const first = await bcryptHasher(4).hash('first');
    const second = await bcryptHasher(4).hash('second');
    const before = fileOf('before.jsonl', [
      JSON.stringify({ email: 'taken@example.com', password_hash: first }),
    ]);
    assert.equal((await runCli(['users', 'import', before], env)).status, 0);
    const file = fileOf('after.jsonl', [
      JSON.stringify({ email: 'new@example.com', password_hash: second }),
      // Another spelling of the same address: the same account.
      JSON.stringify({ email: 'Taken@Example.com', password_hash: second }),
    ]);
    const run = await runCli(['users', 'import', file, '--skip-invalid'], env);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /^line 2: taken@example\.com already has an account in the database/m);
    assert.match(run.stdout, /Imported 1 accounts \(0 already imported, 1 bad lines skipped\)/);
    const exported = await runCli(['users', 'export', '--with-password-hashes'], env);
    const hashes = new Map(
      exported.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { email: string; password_hash: string })
        .map((record) => [record.email, record.password_hash]),
    );
    assert.equal(hashes.get('taken@example.com'), first);
    assert.equal(hashes.get('new@example.com'), second);
  });

  test('CSV with a header and quoted argon2id hashes', async () => {
    const env = await cliDatabase();
    const argon2Hash = await argon2idHasher(ARGON2).hash('from csv');
    const file = fileOf('accounts.csv', [
      'email,password_hash,created_at,email_verified',
      `csv@example.com,${csvField(argon2Hash)},1600000000000,false`,
    ]);
    const result = await runCli(['users', 'import', file], env);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /Imported 1 accounts/);
    const { app } = await startTestService({
      DATABASE_URL: env.DATABASE_URL ?? '',
      PASSWORD_HASH: 'argon2id',
      ARGON2_MEMORY_KIB: '1024',
      ARGON2_ITERATIONS: '1',
    });
    const login = await submit(app, 'POST', '/sessions', {
      email: 'csv@example.com',
      password: 'from csv',
    });
    assert.equal(login.statusCode, 200);
    const badHeader = fileOf('nohash.csv', ['email,password', 'a@example.com,x']);
    const refused = await runCli(['users', 'import', badHeader, '--dry-run'], env);
    assert.match(
      refused.stderr,
      /^line 1: the CSV header must name the columns email and password_hash$/m,
    );
  });
});

describe('users export', () => {
  test('writes every account, with hashes only when asked and then a warning', async () => {
    const env = await cliDatabase();
    const hash = await bcryptHasher(4).hash('pw');
    const file = fileOf('two.jsonl', [
      JSON.stringify({ email: 'a@example.com', password_hash: hash, created_at: 0 }),
      JSON.stringify({ email: 'b@example.com', password_hash: hash, email_verified: true }),
    ]);
    assert.equal((await runCli(['users', 'import', file], env)).status, 0);
    const plain = await runCli(['users', 'export'], env);
    assert.equal(plain.status, 0, plain.stderr);
    assert.equal(plain.stderr, '');
    const records = plain.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(records[0], {
      email: 'a@example.com',
      created_at: '1970-01-01T00:00:00.000Z',
      email_verified: false,
      two_factor: false,
    });
    assert.equal(records[1]?.email_verified, true);
    assert.equal(records.length, 2);
    assert.doesNotMatch(plain.stdout, /\$2b\$/);

    const withHashes = await runCli(
      ['users', 'export', '--format', 'csv', '--with-password-hashes'],
      env,
    );
    assert.equal(withHashes.status, 0, withHashes.stderr);
    assert.match(withHashes.stderr, /Warning: the export holds password hashes/);
    const [header, first] = withHashes.stdout.split('\n');
    assert.equal(header, 'email,created_at,email_verified,two_factor,password_hash');
    assert.deepEqual(csvFields(first ?? ''), [
      'a@example.com',
      '1970-01-01T00:00:00.000Z',
      'false',
      'false',
      hash,
    ]);
    assert.equal((await runCli(['users', 'export', '--format', 'xml'], env)).status, 2);
  });
});

describe('import line units', () => {
  test('hash formats: bcrypt variants and argon2id, nothing else', async () => {
    const bcryptHash = await bcryptHasher(4).hash('pw');
    assert.equal(hashFormatProblem(bcryptHash), null);
    assert.equal(hashFormatProblem(bcryptHash.replace('$2b$', '$2a$')), null);
    assert.equal(hashFormatProblem(await argon2idHasher(ARGON2).hash('pw')), null);
    for (const other of [
      '',
      'pw',
      '$2b$04$short',
      '$argon2i$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaA',
      '$argon2id$junk',
      '{SSHA}abc',
    ]) {
      assert.notEqual(hashFormatProblem(other), null, other);
    }
  });

  test('CSV fields round-trip through quoting', () => {
    const values = ['plain', 'with,comma', 'with "quotes"', ''];
    assert.deepEqual(csvFields(values.map(csvField).join(',')), values);
    assert.equal(csvFields('"unclosed,x'), null);
  });

  test('created_at and email_verified are checked', () => {
    const base = { email: 'a@example.com', password_hash: '$2b$04$' + 'a'.repeat(53) };
    assert.equal(typeof readAccount({ ...base, created_at: 'yesterday' }), 'string');
    assert.equal(typeof readAccount({ ...base, email_verified: 'maybe' }), 'string');
    const account = readAccount({
      ...base,
      created_at: '2020-01-01T00:00:00Z',
      email_verified: 'true',
    });
    assert.ok(typeof account === 'object');
    assert.equal(account.createdAt, Date.UTC(2020, 0, 1));
    assert.equal(account.emailVerified, true);
  });
});
