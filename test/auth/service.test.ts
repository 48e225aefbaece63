import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  InvalidEmailError,
  InvalidResetTokenError,
  PasswordPolicyError,
  TooManyAttemptsError,
  UnknownEmailError,
  UserAlreadyExistsError,
} from '../../src/auth/errors.js';
import { digestToken, isUuid } from '../../src/auth/tokens.js';
import { argon2idHasher, bcryptHasher } from '../../src/auth/password-hashing.js';
import { CountingHasher } from '../support/fakes.js';
import { inspectableDatabase } from '../support/databases.js';
import { startTestService } from '../support/service.js';

const PASSWORD = 'correct horse';

describe('registerUser', () => {
  test('stores a trimmed, lower-cased email and a bcrypt hash, never the password', async () => {
    const database = await inspectableDatabase();
    const { auth } = await startTestService({ DATABASE_URL: database.url });
    const account = await auth.registerUser('  Bob@Example.COM ', PASSWORD);
    assert.equal(account.email, 'bob@example.com');
    assert.ok(!('hashed_password' in account), 'a view, not the row');
    const [user = {}] = await database.rows(`SELECT * FROM users WHERE id = ${account.id}`);
    assert.equal(user.email, 'bob@example.com');
    assert.match(String(user.hashed_password), /^\$2b\$04\$/);
    assert.ok(!String(user.hashed_password).includes(PASSWORD));
    assert.equal(user.reset_token, null);
  });

  test('refuses an email already registered, in any case', async () => {
    const { auth } = await startTestService();
    await auth.registerUser('bob@example.com', PASSWORD);
    await assert.rejects(auth.registerUser('BOB@example.com', PASSWORD), (error: unknown) => {
      assert.ok(error instanceof UserAlreadyExistsError);
      assert.equal(error.message, 'User bob@example.com already exists');
      return true;
    });
  });

  test('concurrent sign-ups of one address create exactly one account', async () => {
    const { auth } = await startTestService();
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        auth.registerUser('race@example.com', `${PASSWORD}${i}`),
      ),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const result of results.filter((r) => r.status === 'rejected')) {
      assert.ok(result.reason instanceof UserAlreadyExistsError);
    }
  });

  test('refuses invalid addresses', async () => {
    const { auth } = await startTestService();
    for (const email of ['', 'bob', 'bob@', '@example.com', 'bob@example', 'b ob@example.com']) {
      await assert.rejects(auth.registerUser(email, PASSWORD), InvalidEmailError, email);
    }
  });

  test('enforces PASSWORD_MIN_LENGTH, the 72-byte bcrypt limit and refuses NUL bytes', async () => {
    const { auth } = await startTestService({ PASSWORD_MIN_LENGTH: '10' });
    await assert.rejects(auth.registerUser('a@example.com', '123456789'), /at least 10 characters/);
    await assert.rejects(auth.registerUser('b@example.com', 'x'.repeat(73)), /at most 72 bytes/);
    await assert.rejects(auth.registerUser('c@example.com', 'é'.repeat(37)), PasswordPolicyError);
    await assert.rejects(auth.registerUser('d@example.com', 'abcdefghij\0k'), /NUL/);
    await auth.registerUser('e@example.com', 'x'.repeat(72));
  });
});

describe('validLogin', () => {
  test('is true only for the right password of an existing account', async () => {
    const { auth } = await startTestService();
    await auth.registerUser('bob@example.com', PASSWORD);
    assert.equal(await auth.validLogin('bob@example.com', PASSWORD), true);
    assert.equal(await auth.validLogin(' BOB@example.com', PASSWORD), true);
    assert.equal(await auth.validLogin('bob@example.com', 'wrong password'), false);
    assert.equal(await auth.validLogin('alice@example.com', PASSWORD), false);
  });

  test('the whole password counts: a longer or shorter one is wrong', async () => {
    const { auth } = await startTestService();
    const password = 'p'.repeat(71) + 'q';
    await auth.registerUser('bob@example.com', password);
    assert.equal(await auth.validLogin('bob@example.com', 'p'.repeat(71) + 'r'), false);
    assert.equal(await auth.validLogin('bob@example.com', `${password}extra`), false);
    assert.equal(await auth.validLogin('bob@example.com', password.slice(0, -1)), false);
    assert.equal(await auth.validLogin('bob@example.com', `${password}\0`), false);
  });

  test('is throttled like a login: parallel wrong passwords get no more checks than allowed', async () => {
    const hasher = new CountingHasher();
    const { auth } = await startTestService(
      { RATE_LIMIT: 'on', LOGIN_THROTTLE_AFTER: '3' },
      // The test service's clock stands still: the block lasts however slow the machine.
      { hasher },
    );
    await auth.registerUser('bob@example.com', PASSWORD);
    hasher.verifications = [];
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => auth.validLogin('bob@example.com', 'wrong password')),
    );
    assert.equal(hasher.verifications.length, 3);
    const refused = results.filter((result) => result.status === 'rejected');
    assert.equal(refused.length, 17);
    for (const result of refused) assert.ok(result.reason instanceof TooManyAttemptsError);
    await assert.rejects(auth.validLogin('bob@example.com', PASSWORD), TooManyAttemptsError);
    assert.equal(hasher.verifications.length, 3);
  });

  const algorithms = [
    { name: 'bcrypt', inner: bcryptHasher(4), made: /^\$2b\$04\$.{53}$/ },
    {
      name: 'argon2id',
      inner: argon2idHasher({ memoryKib: 1024, iterations: 1, parallelism: 1 }),
      made: /^\$argon2id\$v=19\$m=1024,t=1,p=1\$.{22}\$.{43}$/,
    },
  ];
  for (const { name, inner, made } of algorithms) {
    test(`an unknown email costs one ${name} comparison, like a wrong password`, async () => {
      const hasher = new CountingHasher(inner);
      const { auth } = await startTestService({}, { hasher });
      await auth.registerUser('bob@example.com', PASSWORD);
      assert.equal(hasher.hashes, 2, 'the dummy hash, made once at start, and the sign-up’s');
      hasher.verifications = [];
      await auth.validLogin('bob@example.com', 'wrong password');
      await auth.validLogin('nobody@example.com', 'wrong password');
      assert.equal(hasher.verifications.length, 2);
      assert.equal(hasher.hashes, 2, 'no hash made per unknown email');
      // Both comparisons ran against a real hash of the same algorithm and cost.
      for (const hash of hasher.verifications) assert.match(hash, made);
    });
  }

  test('a hash made at a lower cost is upgraded at the next successful login', async () => {
    const database = await inspectableDatabase();
    const hashOfBob = async () =>
      String((await database.rows('SELECT hashed_password FROM users'))[0]?.hashed_password);
    const before = await startTestService({ DATABASE_URL: database.url, BCRYPT_ROUNDS: '4' });
    await before.auth.registerUser('bob@example.com', PASSWORD);
    assert.match(await hashOfBob(), /^\$2b\$04\$/);
    await before.app.close();
    const after = await startTestService({ DATABASE_URL: database.url, BCRYPT_ROUNDS: '5' });
    assert.equal((await after.auth.login('bob@example.com', PASSWORD)).outcome, 'logged_in');
    assert.match(await hashOfBob(), /^\$2b\$05\$/);
    const again = await after.auth.login('bob@example.com', PASSWORD);
    assert.equal(again.outcome, 'logged_in', 'the upgraded hash verifies');
  });
});

describe('login racing a password reset', () => {
  /** Holds every password comparison, once done, until the gate opens. */
  class GatedHasher extends CountingHasher {
    gate: Promise<void> | undefined;
    override async verify(password: string, hash: string): Promise<boolean> {
      const gate = this.gate;
      const matches = await super.verify(password, hash);
      await gate;
      return matches;
    }
  }

  test('a login whose password check overlaps a completed reset opens no session', async () => {
    const hasher = new GatedHasher();
    const { auth } = await startTestService({}, { hasher });
    await auth.registerUser('bob@example.com', PASSWORD);
    let open: () => void = () => undefined;
    hasher.gate = new Promise((resolve) => (open = resolve));
    const login = auth.login('bob@example.com', PASSWORD);
    while (hasher.verifications.length === 0) await new Promise((done) => setImmediate(done));
    hasher.gate = undefined;
    const token = await auth.getResetPasswordToken('bob@example.com');
    await auth.updatePassword(token, 'the new password');
    open();
    assert.equal((await login).outcome, 'refused');
    assert.equal(await auth.validLogin('bob@example.com', 'the new password'), true);
  });

  test('a login whose password check overlaps a completed password change opens no session', async () => {
    const hasher = new GatedHasher();
    const { auth } = await startTestService({}, { hasher });
    await auth.registerUser('bob@example.com', PASSWORD);
    const changing = await auth.createSession('bob@example.com');
    let open: () => void = () => undefined;
    hasher.gate = new Promise((resolve) => (open = resolve));
    const login = auth.login('bob@example.com', PASSWORD);
    while (hasher.verifications.length === 0) await new Promise((done) => setImmediate(done));
    hasher.gate = undefined;
    const changed = await auth.changePassword(changing ?? undefined, {
      current: PASSWORD,
      new: 'the new password',
    });
    assert.ok(typeof changed === 'object');
    open();
    assert.equal((await login).outcome, 'refused');
    assert.ok(await auth.getUserFromSessionId(changed.sessionId), 'the changing session lives on');
  });
});

describe('sessions', () => {
  test('createSession returns a new UUID at every call and null for an unknown email', async () => {
    const { auth } = await startTestService();
    await auth.registerUser('bob@example.com', PASSWORD);
    const first = await auth.createSession('bob@example.com');
    const second = await auth.createSession('Bob@Example.com');
    assert.ok(isUuid(first) && isUuid(second));
    assert.notEqual(first, second);
    assert.equal(await auth.createSession('nobody@example.com'), null);
  });

  test('several sessions per user: a new login leaves the previous one live', async () => {
    const { auth } = await startTestService();
    await auth.registerUser('bob@example.com', PASSWORD);
    const first = await auth.createSession('bob@example.com');
    const second = await auth.createSession('bob@example.com');
    assert.equal((await auth.getUserFromSessionId(first))?.email, 'bob@example.com');
    assert.equal((await auth.getUserFromSessionId(second))?.email, 'bob@example.com');
  });

  test('SESSIONS_PER_USER=1 is the course: a new login ends the previous session', async () => {
    const { auth } = await startTestService({ SESSIONS_PER_USER: '1' });
    await auth.registerUser('bob@example.com', PASSWORD);
    const first = await auth.createSession('bob@example.com');
    const second = await auth.createSession('bob@example.com');
    assert.equal(await auth.getUserFromSessionId(first), null);
    assert.equal((await auth.getUserFromSessionId(second))?.email, 'bob@example.com');
  });

  test('a login beyond SESSIONS_PER_USER ends the least recently seen session', async () => {
    const { auth, clock } = await startTestService({ SESSIONS_PER_USER: '3' });
    await auth.registerUser('bob@example.com', PASSWORD);
    await auth.registerUser('alice@example.com', PASSWORD);
    const alices = await auth.createSession('alice@example.com');
    const [oldest, middle, newest] = [
      await auth.createSession('bob@example.com'),
      await auth.createSession('bob@example.com'),
      await auth.createSession('bob@example.com'),
    ];
    // The oldest is used again (past the refresh interval, so recorded): `middle` is now the
    // least recently seen.
    clock.advanceSeconds(600);
    assert.ok(await auth.getUserFromSessionId(oldest));
    assert.ok(await auth.getUserFromSessionId(newest));
    const fourth = await auth.createSession('bob@example.com');
    assert.equal(await auth.getUserFromSessionId(middle), null, 'the least recently seen ended');
    for (const live of [oldest, newest, fourth]) assert.ok(await auth.getUserFromSessionId(live));
    assert.ok(await auth.getUserFromSessionId(alices), 'another account is untouched');
  });

  test('logout ends only its own session; destroySession ends every one', async () => {
    const { auth } = await startTestService();
    const user = await auth.registerUser('bob@example.com', PASSWORD);
    const laptop = await auth.createSession('bob@example.com');
    const phone = await auth.createSession('bob@example.com');
    assert.equal(await auth.logout(laptop), true);
    assert.equal(await auth.getUserFromSessionId(laptop), null);
    assert.ok(await auth.getUserFromSessionId(phone));
    assert.equal(await auth.logout(laptop), false, 'an ended session cannot log out again');
    const tablet = await auth.createSession('bob@example.com');
    await auth.destroySession(user.id);
    assert.equal(await auth.getUserFromSessionId(phone), null);
    assert.equal(await auth.getUserFromSessionId(tablet), null);
  });

  test('getUserFromSessionId is null for absent, malformed and unknown ids', async () => {
    const { auth } = await startTestService();
    for (const id of [null, undefined, '', 'junk', crypto.randomUUID(), 'A'.repeat(36)]) {
      assert.equal(await auth.getUserFromSessionId(id), null);
    }
  });

  test('a session ends SESSION_TTL after login, however active', async () => {
    const { auth, clock } = await startTestService({
      SESSION_TTL: '3600',
      SESSION_IDLE_TTL: '600',
    });
    await auth.registerUser('bob@example.com', PASSWORD);
    const sessionId = await auth.createSession('bob@example.com');
    for (let elapsed = 0; elapsed < 3600 - 300; elapsed += 300) {
      clock.advanceSeconds(300);
      assert.ok(await auth.getUserFromSessionId(sessionId), `alive after ${elapsed + 300}s`);
    }
    clock.advanceSeconds(300);
    assert.equal(await auth.getUserFromSessionId(sessionId), null);
  });

  test('a session ends after SESSION_IDLE_TTL without activity', async () => {
    const { auth, clock } = await startTestService({ SESSION_IDLE_TTL: '900' });
    await auth.registerUser('bob@example.com', PASSWORD);
    const sessionId = await auth.createSession('bob@example.com');
    clock.advanceSeconds(899);
    assert.ok(await auth.getUserFromSessionId(sessionId));
    // That read was recorded as activity (899 s > the 5-minute refresh interval).
    clock.advanceSeconds(899);
    assert.ok(await auth.getUserFromSessionId(sessionId));
    clock.advanceSeconds(900);
    assert.equal(await auth.getUserFromSessionId(sessionId), null);
  });

  test('activity is written back at most every five minutes, not at every read', async () => {
    const database = await inspectableDatabase();
    const { auth, clock } = await startTestService({ DATABASE_URL: database.url });
    await auth.registerUser('bob@example.com', PASSWORD);
    const sessionId = await auth.createSession('bob@example.com');
    const startedAt = clock.now();
    const seenAt = async () =>
      Number((await database.rows('SELECT last_seen_at AS seen FROM sessions'))[0]?.seen);
    for (let i = 0; i < 10; i += 1) {
      clock.advanceSeconds(20);
      await auth.getUserFromSessionId(sessionId);
    }
    assert.equal(await seenAt(), startedAt, 'ten reads within 200 s write nothing');
    clock.advanceSeconds(100);
    await auth.getUserFromSessionId(sessionId);
    assert.equal(await seenAt(), startedAt + 300_000);
  });

  test('destroySession ends the session', async () => {
    const { auth } = await startTestService();
    const user = await auth.registerUser('bob@example.com', PASSWORD);
    const sessionId = await auth.createSession('bob@example.com');
    await auth.destroySession(user.id);
    assert.equal(await auth.getUserFromSessionId(sessionId), null);
  });
});

describe('password reset', () => {
  test('getResetPasswordToken throws for an unknown email and returns a UUID otherwise', async () => {
    const { auth } = await startTestService();
    await auth.registerUser('bob@example.com', PASSWORD);
    await assert.rejects(auth.getResetPasswordToken('nobody@example.com'), UnknownEmailError);
    assert.ok(isUuid(await auth.getResetPasswordToken('bob@example.com')));
  });

  test('updatePassword sets the new password, ends every session and works once', async () => {
    const { auth } = await startTestService();
    await auth.registerUser('bob@example.com', PASSWORD);
    const other = await auth.createSession('bob@example.com');
    const sessionId = await auth.createSession('bob@example.com');
    const token = await auth.getResetPasswordToken('bob@example.com');
    await auth.updatePassword(token, 'new password 1');
    assert.equal(await auth.validLogin('bob@example.com', 'new password 1'), true);
    assert.equal(await auth.validLogin('bob@example.com', PASSWORD), false);
    assert.equal(await auth.getUserFromSessionId(sessionId), null);
    assert.equal(await auth.getUserFromSessionId(other), null);
    await assert.rejects(auth.updatePassword(token, 'new password 2'), InvalidResetTokenError);
    assert.equal(await auth.validLogin('bob@example.com', 'new password 1'), true);
  });

  test('updatePassword refuses unknown, malformed and superseded tokens', async () => {
    const { auth } = await startTestService();
    await auth.registerUser('bob@example.com', PASSWORD);
    const old = await auth.getResetPasswordToken('bob@example.com');
    await auth.getResetPasswordToken('bob@example.com');
    for (const token of [old, crypto.randomUUID(), '', 'junk']) {
      await assert.rejects(auth.updatePassword(token, 'new password'), InvalidResetTokenError);
    }
  });

  test('a reset token expires after RESET_TOKEN_TTL', async () => {
    const { auth, clock } = await startTestService({ RESET_TOKEN_TTL: '600' });
    await auth.registerUser('bob@example.com', PASSWORD);
    const token = await auth.getResetPasswordToken('bob@example.com');
    clock.advanceSeconds(600);
    await assert.rejects(auth.updatePassword(token, 'new password'), InvalidResetTokenError);
    const fresh = await auth.getResetPasswordToken('bob@example.com');
    clock.advanceSeconds(599);
    await auth.updatePassword(fresh, 'new password');
  });

  test("a token works only with its own account's email", async () => {
    const { auth } = await startTestService();
    await auth.registerUser('bob@example.com', PASSWORD);
    await auth.registerUser('eve@example.com', PASSWORD);
    const token = await auth.getResetPasswordToken('bob@example.com');
    await assert.rejects(
      auth.updatePassword(token, 'hijacked!', { email: 'eve@example.com' }),
      InvalidResetTokenError,
    );
    await auth.updatePassword(token, 'new password', { email: 'BOB@example.com' });
    assert.equal(await auth.validLogin('bob@example.com', 'new password'), true);
    assert.equal(await auth.validLogin('eve@example.com', PASSWORD), true);
  });

  test('of concurrent uses of one token, exactly one succeeds', async () => {
    const { auth } = await startTestService();
    await auth.registerUser('bob@example.com', PASSWORD);
    const token = await auth.getResetPasswordToken('bob@example.com');
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => auth.updatePassword(token, `new password ${i}`)),
    );
    const winners = results.flatMap((result, i) => (result.status === 'fulfilled' ? [i] : []));
    assert.equal(winners.length, 1);
    for (const result of results) {
      if (result.status === 'rejected') assert.ok(result.reason instanceof InvalidResetTokenError);
    }
    assert.equal(await auth.validLogin('bob@example.com', `new password ${winners[0]}`), true);
  });

  test('updatePassword applies the password policy before the token is used', async () => {
    const { auth } = await startTestService();
    await auth.registerUser('bob@example.com', PASSWORD);
    const token = await auth.getResetPasswordToken('bob@example.com');
    await assert.rejects(auth.updatePassword(token, 'short'), PasswordPolicyError);
    await auth.updatePassword(token, 'long enough now');
  });

  test('requestPasswordReset emails a link built from PUBLIC_URL, and nothing for strangers', async () => {
    const { auth, mailer } = await startTestService({ PUBLIC_URL: 'https://id.example.org/auth/' });
    await auth.registerUser('bob@example.com', PASSWORD);
    auth.requestPasswordReset('nobody@example.com');
    auth.requestPasswordReset('Bob@Example.com');
    await auth.drain();
    assert.equal(mailer.sent.length, 1);
    const [mail] = mailer.sent;
    assert.equal(mail?.to, 'bob@example.com');
    const link = /https:\/\/id\.example\.org\/auth\/reset_password\?token=([0-9a-f-]{36})/.exec(
      mail.text,
    );
    assert.ok(link?.[1], mail.text);
    await auth.updatePassword(link[1], 'brand new password', { email: 'bob@example.com' });
    assert.throws(() => auth.requestPasswordReset('not an address'), InvalidEmailError);
  });
});

describe('reset emails', () => {
  test('an account gets at most RESET_EMAIL_LIMIT reset emails per window', async () => {
    const { auth, mailer, clock } = await startTestService({
      RATE_LIMIT: 'on',
      RESET_EMAIL_LIMIT: '3/3600',
    });
    await auth.registerUser('bob@example.com', PASSWORD);
    for (let i = 0; i < 5; i += 1) {
      auth.requestPasswordReset('bob@example.com');
      await auth.drain();
      clock.advanceSeconds(60);
    }
    assert.equal(mailer.sent.length, 3);
    clock.advanceSeconds(3600);
    auth.requestPasswordReset('bob@example.com');
    await auth.drain();
    assert.equal(mailer.sent.length, 4);
  });

  test('with RATE_LIMIT=off reset emails are not limited', async () => {
    const { auth, mailer } = await startTestService({ RESET_EMAIL_LIMIT: '1/3600' });
    await auth.registerUser('bob@example.com', PASSWORD);
    for (let i = 0; i < 3; i += 1) {
      auth.requestPasswordReset('bob@example.com');
      await auth.drain();
    }
    assert.equal(mailer.sent.length, 3);
  });

  test('at most 100 reset requests wait at once; the rest are dropped and logged, the admitted ones run', async () => {
    const { auth, admin, logs } = await startTestService({}, { backgroundDelayMs: () => 50 });
    for (let i = 0; i < 130; i += 1) auth.requestPasswordReset(`nobody${i}@example.com`);
    await auth.drain();
    assert.equal(logs.filter((line) => line.includes('this request was dropped')).length, 30);
    // Each admitted request looked its address up, which its audit event records.
    const ran = await admin.events({ type: 'password_reset_requested', limit: 200 });
    assert.equal(ran.length, 100);
  });
});

test('session ids and reset tokens are stored only as SHA-256 digests', async () => {
  const database = await inspectableDatabase();
  const { auth } = await startTestService({ DATABASE_URL: database.url });
  await auth.registerUser('bob@example.com', PASSWORD);
  const sessionId = await auth.createSession('bob@example.com');
  const token = await auth.getResetPasswordToken('bob@example.com');
  assert.ok(sessionId !== null);
  const [row] = await database.rows('SELECT * FROM users');
  const [session] = await database.rows('SELECT * FROM sessions');
  assert.ok(row && session);
  assert.equal(session.token_digest, digestToken(sessionId));
  assert.notEqual(session.id, sessionId);
  assert.notEqual(session.id, digestToken(sessionId));
  assert.equal(row.reset_token, digestToken(token));
  const stored = JSON.stringify([row, session]);
  for (const secret of [sessionId, token, PASSWORD]) assert.ok(!stored.includes(secret));
});
