/**
 * argon2id through the HTTP API: bcrypt and argon2id accounts side by side, hashes upgraded at
 * login once (audited, never over a password changed meanwhile), long passwords allowed with
 * argon2id and refused with bcrypt, and the dummy hash of unknown emails at the configured cost.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import {
  passwordHasher,
  type HashOptions,
  type PasswordHasher,
} from '../../src/auth/password-hashing.js';
import { inspectableDatabase, type InspectableDatabase } from '../support/databases.js';
import { CountingHasher } from '../support/fakes.js';
import { sessionCookie, startTestService, submit } from '../support/service.js';

/** argon2id at its cheapest settings the configuration accepts. */
const ARGON2_ENV = {
  PASSWORD_HASH: 'argon2id',
  ARGON2_MEMORY_KIB: '1024',
  ARGON2_ITERATIONS: '1',
  ARGON2_PARALLELISM: '1',
};
const ARGON2_SETTINGS = {
  algorithm: 'argon2id',
  bcryptRounds: 4,
  argon2: { memoryKib: 1024, iterations: 1, parallelism: 1 },
} as const;
const BCRYPT_PREFIX = /^\$2b\$04\$.{53}$/;
const ARGON2_PREFIX = /^\$argon2id\$v=19\$m=1024,t=1,p=1\$/;
const PASSWORD = 'correct horse';
/** 100 CJK characters: 300 bytes of UTF-8, far beyond bcrypt's 72. */
const CJK_100 = '密码安全很重要'.repeat(15).slice(0, 100);

const logIn = (app: FastifyInstance, email: string, password: string) =>
  submit(app, 'POST', '/sessions', { email, password });

async function storedHash(database: InspectableDatabase, email: string): Promise<string> {
  const rows = await database.rows(`SELECT hashed_password FROM users WHERE email = '${email}'`);
  return String(rows[0]?.hashed_password);
}

/** A database holding one bcrypt account, made by a service configured for bcrypt. */
async function databaseWithBcryptAccount(email: string): Promise<InspectableDatabase> {
  const database = await inspectableDatabase();
  const before = await startTestService({ DATABASE_URL: database.url });
  assert.equal(
    (await submit(before.app, 'POST', '/users', { email, password: PASSWORD })).statusCode,
    200,
  );
  await before.app.close();
  assert.match(await storedHash(database, email), BCRYPT_PREFIX);
  return database;
}

/**
 * The configured hasher, whose next hash after {@link RehashGate.arm} waits until
 * {@link RehashGate.release}: a login's upgrade is held between its check and its write.
 */
class RehashGate implements PasswordHasher {
  private readonly inner = passwordHasher(ARGON2_SETTINGS);
  private armed = false;
  private release_: () => void = () => undefined;
  private held_: () => void = () => undefined;
  /** Resolves once the armed hash has begun waiting. */
  held: Promise<void> = Promise.resolve();

  arm(): void {
    this.armed = true;
    this.held = new Promise((resolve) => (this.held_ = resolve));
  }
  release(): void {
    this.release_();
  }
  async hash(password: string, options?: HashOptions): Promise<string> {
    if (this.armed) {
      this.armed = false;
      const gate = new Promise<void>((resolve) => (this.release_ = resolve));
      this.held_();
      await gate;
    }
    return this.inner.hash(password, options);
  }
  verify(password: string, hash: string, options?: HashOptions): Promise<boolean> {
    return this.inner.verify(password, hash, options);
  }
  needsRehash(hash: string): boolean {
    return this.inner.needsRehash(hash);
  }
}

describe('argon2id accounts beside bcrypt ones', () => {
  test('both kinds log in, each verified by its own hash, whichever algorithm is configured', async () => {
    const database = await databaseWithBcryptAccount('old@example.com');
    // No upgrade: the bcrypt account stays bcrypt while the service is on bcrypt.
    const onArgon2 = await startTestService({ DATABASE_URL: database.url, ...ARGON2_ENV });
    const signUp = await submit(onArgon2.app, 'POST', '/users', {
      email: 'new@example.com',
      password: PASSWORD,
    });
    assert.equal(signUp.statusCode, 200);
    assert.match(await storedHash(database, 'new@example.com'), ARGON2_PREFIX);
    await onArgon2.app.close();

    const onBcrypt = await startTestService({ DATABASE_URL: database.url });
    for (const email of ['old@example.com', 'new@example.com']) {
      const login = await logIn(onBcrypt.app, email, PASSWORD);
      assert.equal(login.statusCode, 200, `${email}: ${login.body}`);
      assert.ok(sessionCookie(login));
      assert.equal((await logIn(onBcrypt.app, email, 'wrong password')).statusCode, 401);
    }
    // On bcrypt, the bcrypt account was not touched and the argon2id one became bcrypt.
    assert.match(await storedHash(database, 'old@example.com'), BCRYPT_PREFIX);
    assert.match(await storedHash(database, 'new@example.com'), BCRYPT_PREFIX);
  });

  test('a login upgrades a bcrypt hash to argon2id once, audited as password_rehashed', async () => {
    const database = await databaseWithBcryptAccount('bob@example.com');
    const { app, admin } = await startTestService({ DATABASE_URL: database.url, ...ARGON2_ENV });
    assert.equal((await logIn(app, 'bob@example.com', 'wrong password')).statusCode, 401);
    assert.match(await storedHash(database, 'bob@example.com'), BCRYPT_PREFIX, 'not on a failure');

    assert.equal((await logIn(app, 'bob@example.com', PASSWORD)).statusCode, 200);
    const upgraded = await storedHash(database, 'bob@example.com');
    assert.match(upgraded, ARGON2_PREFIX);
    assert.equal((await logIn(app, 'bob@example.com', PASSWORD)).statusCode, 200);
    assert.equal(await storedHash(database, 'bob@example.com'), upgraded, 'upgraded once');
    assert.equal((await logIn(app, 'bob@example.com', 'wrong password')).statusCode, 401);

    const rehashed = await admin.events({ type: 'password_rehashed', limit: 10 });
    assert.equal(rehashed.length, 1);
    const [event] = rehashed;
    assert.ok(event);
    assert.equal(event.email, 'bob@example.com');
    assert.equal(event.userAgent, 'lightMyRequest', 'with the request’s context');
  });

  test('a hash of weaker argon2id settings is upgraded at login; a stronger one is kept', async () => {
    const database = await inspectableDatabase();
    const weak = await startTestService({ DATABASE_URL: database.url, ...ARGON2_ENV });
    await submit(weak.app, 'POST', '/users', { email: 'bob@example.com', password: PASSWORD });
    await weak.app.close();
    const stronger = { DATABASE_URL: database.url, ...ARGON2_ENV, ARGON2_ITERATIONS: '2' };
    const first = await startTestService(stronger);
    assert.equal((await logIn(first.app, 'bob@example.com', PASSWORD)).statusCode, 200);
    const upgraded = await storedHash(database, 'bob@example.com');
    assert.match(upgraded, /^\$argon2id\$v=19\$m=1024,t=2,p=1\$/);
    await first.app.close();
    const weaker = await startTestService({ DATABASE_URL: database.url, ...ARGON2_ENV });
    assert.equal((await logIn(weaker.app, 'bob@example.com', PASSWORD)).statusCode, 200);
    assert.equal(await storedHash(database, 'bob@example.com'), upgraded);
    // The one upgrade, by the stronger service.
    assert.equal((await weaker.admin.events({ type: 'password_rehashed', limit: 10 })).length, 1);
  });
});

describe('an upgrade racing a password change', () => {
  for (const change of ['an operator’s set-password', 'a password reset'] as const) {
    test(`${change} made while a login upgrades the hash wins over the upgrade`, async () => {
      const database = await databaseWithBcryptAccount('bob@example.com');
      const gate = new RehashGate();
      const { app, auth, admin, mailer } = await startTestService(
        { DATABASE_URL: database.url, ...ARGON2_ENV },
        { hasher: gate },
      );
      let resetToken = '';
      if (change === 'a password reset') {
        await submit(app, 'POST', '/reset_password', { email: 'bob@example.com' });
        await auth.drain();
        resetToken = /token=([0-9a-f-]{36})/.exec(mailer.sent[0]?.text ?? '')?.[1] ?? '';
        assert.ok(resetToken);
      }
      gate.arm();
      const login = logIn(app, 'bob@example.com', PASSWORD);
      await gate.held;
      // The login's password was checked; its upgrade waits. The password changes meanwhile.
      if (change === 'a password reset') {
        const reset = await submit(app, 'PUT', '/reset_password', {
          email: 'bob@example.com',
          reset_token: resetToken,
          new_password: 'battery staple',
        });
        assert.equal(reset.statusCode, 200, reset.body);
      } else {
        await admin.setPassword('bob@example.com', 'battery staple');
      }
      const changed = await storedHash(database, 'bob@example.com');
      gate.release();
      // The login overlapped a password change, so it opens no session (as without an
      // upgrade: see the login races in test/auth/service.test.ts), and it is no error either.
      const answer = await login;
      assert.equal(answer.statusCode, 401, answer.body);
      assert.equal(sessionCookie(answer), undefined);
      assert.equal(await storedHash(database, 'bob@example.com'), changed, 'the change won');
      assert.match(changed, ARGON2_PREFIX);
      assert.equal((await logIn(app, 'bob@example.com', PASSWORD)).statusCode, 401);
      assert.equal((await logIn(app, 'bob@example.com', 'battery staple')).statusCode, 200);
      assert.equal((await admin.events({ type: 'password_rehashed', limit: 10 })).length, 0);
    });
  }

  test('two logins racing the upgrade both log in, and the hash is upgraded once', async () => {
    const database = await databaseWithBcryptAccount('bob@example.com');
    const gate = new RehashGate();
    const { app, admin } = await startTestService(
      { DATABASE_URL: database.url, ...ARGON2_ENV },
      { hasher: gate },
    );
    gate.arm();
    const first = logIn(app, 'bob@example.com', PASSWORD);
    await gate.held;
    // The first login's upgrade waits; a second login of the same password upgrades meanwhile.
    const second = await logIn(app, 'bob@example.com', PASSWORD);
    assert.equal(second.statusCode, 200, second.body);
    const upgraded = await storedHash(database, 'bob@example.com');
    assert.match(upgraded, ARGON2_PREFIX);
    gate.release();
    const answer = await first;
    assert.equal(answer.statusCode, 200, answer.body);
    assert.ok(sessionCookie(answer));
    assert.equal(await storedHash(database, 'bob@example.com'), upgraded, 'upgraded once');
    assert.equal((await admin.events({ type: 'password_rehashed', limit: 10 })).length, 1);
  });

  test('a failing upgrade is logged and never fails the login', async () => {
    const database = await databaseWithBcryptAccount('bob@example.com');
    const real = passwordHasher(ARGON2_SETTINGS);
    const broken: PasswordHasher = {
      hash: () => Promise.reject(new Error('out of memory, say')),
      verify: (password, hash) => real.verify(password, hash),
      needsRehash: (hash) => real.needsRehash(hash),
    };
    const { app, logs } = await startTestService(
      { DATABASE_URL: database.url, ...ARGON2_ENV },
      { hasher: broken },
    );
    assert.equal((await logIn(app, 'bob@example.com', PASSWORD)).statusCode, 200);
    assert.match(await storedHash(database, 'bob@example.com'), BCRYPT_PREFIX);
    assert.ok(logs.some((line) => line.includes('a password hash could not be upgraded')));
  });
});

describe('long passwords', () => {
  test('a 100-character CJK password signs up and logs in with argon2id', async () => {
    const { app } = await startTestService(ARGON2_ENV);
    const signUp = await submit(app, 'POST', '/users', {
      email: 'long@example.com',
      password: CJK_100,
    });
    assert.equal(signUp.statusCode, 200, signUp.body);
    assert.equal((await logIn(app, 'long@example.com', CJK_100)).statusCode, 200);
    assert.equal((await logIn(app, 'long@example.com', CJK_100.slice(0, 99))).statusCode, 401);
    assert.equal((await logIn(app, 'long@example.com', `${CJK_100}密`)).statusCode, 401);
  });

  test('with argon2id, PASSWORD_MAX_LENGTH characters are the limit', async () => {
    const { app } = await startTestService({ ...ARGON2_ENV, PASSWORD_MAX_LENGTH: '100' });
    const longer = await submit(app, 'POST', '/users', {
      email: 'long@example.com',
      password: `${CJK_100}密`,
    });
    assert.equal(longer.statusCode, 400);
    assert.equal(longer.json<{ code: string }>().code, 'password_refused');
    assert.match(longer.json<{ message: string }>().message, /at most 100 characters/);
    const exact = await submit(app, 'POST', '/users', {
      email: 'long@example.com',
      password: CJK_100,
    });
    assert.equal(exact.statusCode, 200);
  });

  test('the same password is refused with bcrypt, with a message saying why', async () => {
    const { app } = await startTestService();
    const signUp = await submit(app, 'POST', '/users', {
      email: 'long@example.com',
      password: CJK_100,
    });
    assert.equal(signUp.statusCode, 400);
    assert.equal(signUp.json<{ code: string }>().code, 'password_refused');
    assert.match(signUp.json<{ message: string }>().message, /at most 72 bytes/);
    assert.equal((await logIn(app, 'long@example.com', CJK_100)).statusCode, 401);
  });
});

describe('the dummy hash of unknown emails', () => {
  test('with argon2id, an unknown email costs one argon2id verification at the configured settings', async () => {
    const hasher = new CountingHasher(passwordHasher(ARGON2_SETTINGS));
    const { app } = await startTestService(ARGON2_ENV, { hasher });
    await submit(app, 'POST', '/users', { email: 'bob@example.com', password: PASSWORD });
    hasher.verifications = [];
    assert.equal((await logIn(app, 'bob@example.com', 'wrong password')).statusCode, 401);
    assert.equal((await logIn(app, 'nobody@example.com', 'wrong password')).statusCode, 401);
    assert.equal((await logIn(app, 'not an email', 'wrong password')).statusCode, 401);
    assert.equal(hasher.verifications.length, 3);
    for (const hash of hasher.verifications) assert.match(hash, ARGON2_PREFIX);
  });
});
