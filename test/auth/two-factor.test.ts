/**
 * Two-factor authentication through the Auth service, on the engine under test: enrolment and
 * its confirmation, the second step (window edges, no replay, one winner among concurrent uses),
 * recovery codes (single use, typed any way), turning it off, the operator's reset, and what the
 * database holds (no secret in the clear; nothing left once the account is deleted).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { TwoFactorUnavailableError } from '../../src/auth/errors.js';
import { openDatabase, type Database } from '../../src/db/connection.js';
import { freshDatabaseUrl } from '../support/databases.js';
import { startTestService, type TestService } from '../support/service.js';
import { totpCodeAt } from '../support/totp.js';

const PASSWORD = 'correct horse battery';

interface Enrolled {
  readonly service: TestService;
  readonly database: Database;
  readonly userId: number;
  readonly token: string;
  readonly secret: string;
  readonly codes: string[];
}

async function startWithDatabase(options: { key?: boolean } = {}) {
  const database = openDatabase(await freshDatabaseUrl());
  const service = await startTestService(
    {},
    { database, ...(options.key !== false && { secretKey: randomBytes(32) }) },
  );
  return { service, database };
}

async function logIn(service: TestService, email: string): Promise<string> {
  const outcome = await service.auth.login(email, PASSWORD);
  if (outcome.outcome !== 'logged_in') throw new Error(`login failed: ${outcome.outcome}`);
  return outcome.sessionId;
}

/**
 * A service with one account, its factor on; the clock is moved two steps past the confirming
 * code's, so that the step before the current one is unused.
 */
async function enrolled(email = 'bob@example.com'): Promise<Enrolled> {
  const { service, database } = await startWithDatabase();
  const account = await service.auth.registerUser(email, PASSWORD);
  const token = await logIn(service, email);
  const pending = await service.auth.beginTwoFactorEnrolment(token, PASSWORD);
  if (typeof pending === 'string') throw new Error(`enrolment refused: ${pending}`);
  const confirmed = await service.auth.confirmTwoFactorEnrolment(
    token,
    totpCodeAt(pending.secret, service.clock.now()),
  );
  if (typeof confirmed === 'string') throw new Error(`confirmation refused: ${confirmed}`);
  service.clock.advanceSeconds(60);
  return {
    service,
    database,
    userId: account.id,
    token,
    secret: pending.secret,
    codes: confirmed.recoveryCodes,
  };
}

async function auditTypes(service: TestService): Promise<string[]> {
  await service.auth.drain();
  const rows = await service.admin.events({ limit: 100 });
  return rows.map((row) => row.type).reverse();
}

describe('two-factor enrolment', () => {
  it('is pending until a code confirms it, then on with ten recovery codes', async () => {
    const { service } = await startWithDatabase();
    const bob = await service.auth.registerUser('bob@example.com', PASSWORD);
    const token = await logIn(service, 'bob@example.com');
    assert.equal(
      await service.auth.beginTwoFactorEnrolment(token, 'wrong password'),
      'wrong_password',
    );
    assert.equal(
      await service.auth.beginTwoFactorEnrolment('not a session', PASSWORD),
      'not_logged_in',
    );
    const first = await service.auth.beginTwoFactorEnrolment(token, PASSWORD);
    assert.ok(typeof first !== 'string');
    assert.match(first.secret, /^[A-Z2-7]{32}$/);
    assert.ok(first.otpauthUrl.startsWith('otpauth://totp/'));
    assert.equal(new URL(first.otpauthUrl).searchParams.get('issuer'), 'Bienvenue (auth.test)');
    assert.deepEqual(await service.auth.twoFactorStatus(bob.id), {
      enabled: false,
      recoveryCodesLeft: 0,
    });
    // Beginning again replaces the pending secret: the first one's codes no longer confirm.
    const second = await service.auth.beginTwoFactorEnrolment(token, PASSWORD);
    assert.ok(typeof second !== 'string');
    assert.notEqual(second.secret, first.secret);
    const now = service.clock.now();
    assert.equal(
      await service.auth.confirmTwoFactorEnrolment(token, totpCodeAt(first.secret, now)),
      'invalid_code',
    );
    assert.equal(await service.auth.confirmTwoFactorEnrolment(token, 'abcdef'), 'invalid_code');
    const confirmed = await service.auth.confirmTwoFactorEnrolment(
      token,
      totpCodeAt(second.secret, now),
    );
    assert.ok(typeof confirmed !== 'string');
    assert.equal(confirmed.recoveryCodes.length, 10);
    assert.deepEqual(await service.auth.twoFactorStatus(bob.id), {
      enabled: true,
      recoveryCodesLeft: 10,
    });
    assert.equal(await service.auth.beginTwoFactorEnrolment(token, PASSWORD), 'already_enabled');
    assert.equal(
      await service.auth.confirmTwoFactorEnrolment(token, totpCodeAt(second.secret, now)),
      'not_pending',
    );
    // The confirming code's step is used: it does not work again at login.
    assert.equal(await service.auth.verifySecondStep(bob.id, totpCodeAt(second.secret, now)), null);
    const types = await auditTypes(service);
    assert.ok(types.includes('totp_enabled'));
    assert.ok(types.includes('second_factor_failed'));
  });

  it('ends every other session of the account when it is turned on, not the caller’s', async () => {
    const { service } = await startWithDatabase();
    await service.auth.registerUser('bob@example.com', PASSWORD);
    await service.auth.registerUser('eve@example.com', PASSWORD);
    const token = await logIn(service, 'bob@example.com');
    const other = await logIn(service, 'bob@example.com');
    const eve = await logIn(service, 'eve@example.com');
    const pending = await service.auth.beginTwoFactorEnrolment(token, PASSWORD);
    assert.ok(typeof pending !== 'string');
    assert.ok(await service.auth.getUserFromSessionId(other), 'still live before confirmation');
    const confirmed = await service.auth.confirmTwoFactorEnrolment(
      token,
      totpCodeAt(pending.secret, service.clock.now()),
    );
    assert.ok(typeof confirmed !== 'string');
    assert.equal(await service.auth.getUserFromSessionId(other), null);
    assert.equal((await service.auth.getUserFromSessionId(token))?.email, 'bob@example.com');
    assert.equal((await service.auth.getUserFromSessionId(eve))?.email, 'eve@example.com');
    await service.auth.drain();
    const ended = await service.admin.events({ type: 'session_ended', limit: 10 });
    assert.deepEqual(
      ended.map((event) => event.reason),
      ['two_factor_enabled'],
    );
  });

  it('of concurrent confirmations, turns it on once, with one set of ten codes', async () => {
    const { service, database } = await startWithDatabase();
    const bob = await service.auth.registerUser('bob@example.com', PASSWORD);
    const token = await logIn(service, 'bob@example.com');
    const pending = await service.auth.beginTwoFactorEnrolment(token, PASSWORD);
    assert.ok(typeof pending !== 'string');
    const code = totpCodeAt(pending.secret, service.clock.now());
    const results = await Promise.all(
      Array.from({ length: 5 }, () => service.auth.confirmTwoFactorEnrolment(token, code)),
    );
    assert.equal(results.filter((result) => typeof result !== 'string').length, 1);
    assert.equal(results.filter((result) => result === 'not_pending').length, 4);
    const stored = await sql<{ n: number | string }>`
      SELECT count(*) AS n FROM recovery_codes WHERE user_id = ${bob.id}`.execute(database.kysely);
    assert.equal(Number(stored.rows[0]?.n), 10);
  });

  it('is unavailable without a key, before any password is checked', async () => {
    const { service } = await startWithDatabase({ key: false });
    const bob = await service.auth.registerUser('bob@example.com', PASSWORD);
    const token = await logIn(service, 'bob@example.com');
    assert.equal(service.auth.twoFactorAvailable, false);
    await assert.rejects(
      service.auth.beginTwoFactorEnrolment(token, PASSWORD),
      TwoFactorUnavailableError,
    );
    assert.deepEqual(await service.auth.twoFactorStatus(bob.id), {
      enabled: false,
      recoveryCodesLeft: 0,
    });
  });
});

describe('the second step', () => {
  it('accepts the codes of the previous, current and next step; not two steps away', async () => {
    const { service, userId, secret } = await enrolled();
    const at = (offsetSteps: number) =>
      totpCodeAt(secret, service.clock.now() + offsetSteps * 30_000);
    const nearby = new Set([at(-1), at(0), at(1)]);
    for (const far of [at(-2), at(2)]) {
      if (nearby.has(far)) continue; // the same six digits by chance (1 in 10^6)
      assert.equal(await service.auth.verifySecondStep(userId, far), null);
    }
    // In increasing order, since an earlier step than the last used is refused.
    assert.equal(await service.auth.verifySecondStep(userId, at(-1)), 'totp');
    assert.equal(await service.auth.verifySecondStep(userId, at(0)), 'totp');
    assert.equal(await service.auth.verifySecondStep(userId, at(1)), 'totp');
  });

  it('refuses the same code again, and a code of an earlier step than one used', async () => {
    const { service, userId, secret } = await enrolled();
    const now = service.clock.now();
    const current = totpCodeAt(secret, now);
    const previous = totpCodeAt(secret, now - 30_000);
    assert.equal(await service.auth.verifySecondStep(userId, current), 'totp');
    assert.equal(await service.auth.verifySecondStep(userId, current), null);
    if (previous !== current) {
      assert.equal(await service.auth.verifySecondStep(userId, previous), null);
    }
    service.clock.advanceSeconds(30);
    assert.equal(
      await service.auth.verifySecondStep(userId, current),
      null,
      'now the previous step, but used',
    );
    assert.equal(
      await service.auth.verifySecondStep(userId, totpCodeAt(secret, service.clock.now())),
      'totp',
    );
  });

  it('lets exactly one of ten concurrent uses of one code through', async () => {
    const { service, userId, secret } = await enrolled();
    const code = totpCodeAt(secret, service.clock.now());
    const results = await Promise.all(
      Array.from({ length: 10 }, () => service.auth.verifySecondStep(userId, code)),
    );
    assert.equal(results.filter((result) => result === 'totp').length, 1);
    assert.equal(results.filter((result) => result === null).length, 9);
  });

  it('takes each recovery code once, typed in any case, with spaces or without its dash', async () => {
    const { service, userId, codes } = await enrolled();
    const [first = '', second = '', third = ''] = codes;
    assert.equal(await service.auth.verifySecondStep(userId, first.toUpperCase()), 'recovery_code');
    assert.equal(await service.auth.verifySecondStep(userId, first), null);
    assert.equal(
      await service.auth.verifySecondStep(userId, ` ${second.replace('-', ' ')} `),
      'recovery_code',
    );
    assert.equal(
      await service.auth.verifySecondStep(userId, third.replace('-', '')),
      'recovery_code',
    );
    assert.equal(await service.auth.verifySecondStep(userId, 'zzzzz-zzzzz'), null);
    assert.equal((await service.auth.twoFactorStatus(userId)).recoveryCodesLeft, 7);
    const types = await auditTypes(service);
    assert.equal(types.filter((type) => type === 'recovery_code_used').length, 3);
  });

  it('lets exactly one of ten concurrent uses of one recovery code through', async () => {
    const { service, userId, codes } = await enrolled();
    const code = codes[0] ?? '';
    const results = await Promise.all(
      Array.from({ length: 10 }, () => service.auth.verifySecondStep(userId, code)),
    );
    assert.equal(results.filter((result) => result === 'recovery_code').length, 1);
    assert.equal((await service.auth.twoFactorStatus(userId)).recoveryCodesLeft, 9);
  });

  it('refuses the codes of another account, and an account without the factor', async () => {
    const { service, userId, codes, secret } = await enrolled();
    const eve = await service.auth.registerUser('eve@example.com', PASSWORD);
    assert.equal(await service.auth.verifySecondStep(eve.id, codes[0] ?? ''), null);
    assert.equal(
      await service.auth.verifySecondStep(eve.id, totpCodeAt(secret, service.clock.now())),
      null,
    );
    assert.equal(await service.auth.verifySecondStep(userId, codes[0] ?? ''), 'recovery_code');
  });
});

describe('turning it off and new recovery codes', () => {
  it('turns off only with the password and a code, either kind', async () => {
    const { service, userId, token, secret, codes } = await enrolled();
    const code = () => totpCodeAt(secret, service.clock.now());
    assert.equal(
      await service.auth.disableTwoFactor(token, { password: 'wrong', code: code() }),
      'wrong_password',
    );
    assert.equal(
      await service.auth.disableTwoFactor(token, {
        password: PASSWORD,
        code: '000000' === code() ? '111111' : '000000',
      }),
      'invalid_code',
    );
    assert.equal((await service.auth.twoFactorStatus(userId)).enabled, true);
    assert.equal(
      await service.auth.disableTwoFactor(token, { password: PASSWORD, code: codes[0] ?? '' }),
      true,
    );
    assert.deepEqual(await service.auth.twoFactorStatus(userId), {
      enabled: false,
      recoveryCodesLeft: 0,
    });
    assert.equal(await service.auth.verifySecondStep(userId, code()), null);
    assert.equal(
      await service.auth.disableTwoFactor(token, { password: PASSWORD, code: code() }),
      'not_enabled',
    );
    assert.ok((await auditTypes(service)).includes('totp_disabled'));
  });

  it('counts wrong codes with the password, so guessing them is throttled', async () => {
    const { service, token, secret } = await (async () => {
      const started = await enrolledWithThrottling();
      return started;
    })();
    const wrong = () => {
      const right = totpCodeAt(secret, service.clock.now());
      return right === '000000' ? '111111' : '000000';
    };
    for (let attempt = 0; attempt < 3; attempt += 1) {
      assert.equal(
        await service.auth.disableTwoFactor(token, { password: PASSWORD, code: wrong() }),
        'invalid_code',
      );
    }
    await assert.rejects(
      service.auth.disableTwoFactor(token, { password: PASSWORD, code: wrong() }),
      { name: 'TooManyAttemptsError' },
    );
  });

  it('replaces every recovery code, given the password', async () => {
    const { service, userId, token, codes } = await enrolled();
    assert.equal(await service.auth.verifySecondStep(userId, codes[0] ?? ''), 'recovery_code');
    assert.equal(await service.auth.regenerateRecoveryCodes(token, 'wrong'), 'wrong_password');
    const renewed = await service.auth.regenerateRecoveryCodes(token, PASSWORD);
    assert.ok(typeof renewed !== 'string');
    assert.equal(renewed.recoveryCodes.length, 10);
    assert.equal((await service.auth.twoFactorStatus(userId)).recoveryCodesLeft, 10);
    assert.equal(
      await service.auth.verifySecondStep(userId, codes[1] ?? ''),
      null,
      'old codes are gone',
    );
    assert.equal(
      await service.auth.verifySecondStep(userId, renewed.recoveryCodes[0] ?? ''),
      'recovery_code',
    );
    assert.ok((await auditTypes(service)).includes('recovery_codes_regenerated'));
  });

  it('is reset by the operator: off, and every session of the account ended', async () => {
    const { service, userId, token, secret } = await enrolled();
    const other = await logIn(service, 'bob@example.com');
    assert.equal(await service.auth.resetTwoFactor(userId), true);
    assert.equal((await service.auth.twoFactorStatus(userId)).enabled, false);
    assert.equal(await service.auth.getUserFromSessionId(token), null);
    assert.equal(await service.auth.getUserFromSessionId(other), null);
    assert.equal(
      await service.auth.verifySecondStep(userId, totpCodeAt(secret, service.clock.now())),
      null,
    );
    assert.equal(await service.auth.resetTwoFactor(userId), false);
    await service.auth.drain();
    const ended = await service.admin.events({ type: 'session_ended', limit: 10 });
    assert.deepEqual(new Set(ended.map((event) => event.reason)), new Set(['two_factor_reset']));
    assert.ok((await auditTypes(service)).includes('totp_disabled'));
  });
});

describe('what the database holds', () => {
  it('holds neither the secret nor a recovery code in the clear', async () => {
    const { database, secret, codes } = await enrolled();
    const { rows } = await sql<Record<string, unknown>>`SELECT * FROM two_factor`.execute(
      database.kysely,
    );
    const codeRows = await sql<Record<string, unknown>>`SELECT * FROM recovery_codes`.execute(
      database.kysely,
    );
    assert.equal(rows.length, 1);
    assert.equal(codeRows.rows.length, 10);
    const stored = JSON.stringify([
      rows,
      codeRows.rows,
      await allAuditRows(database),
    ]).toLowerCase();
    assert.equal(stored.includes(secret.toLowerCase()), false);
    for (const code of codes) {
      assert.equal(stored.includes(code), false, code);
      assert.equal(stored.includes(code.replace('-', '')), false, code);
    }
  });

  it('keeps no factor or code once the account is deleted', async () => {
    const { service, database, token, userId } = await enrolled();
    assert.ok(typeof (await service.auth.deleteAccount(token, PASSWORD)) !== 'string');
    const left = await sql<{ n: number | string }>`
      SELECT (SELECT count(*) FROM two_factor WHERE user_id = ${userId})
           + (SELECT count(*) FROM recovery_codes WHERE user_id = ${userId}) AS n`.execute(
      database.kysely,
    );
    assert.equal(Number(left.rows[0]?.n), 0);
  });
});

async function allAuditRows(database: Database): Promise<unknown[]> {
  return (await sql`SELECT * FROM audit_events`.execute(database.kysely)).rows;
}

/** Like {@link enrolled}, with the login throttle on after three failures. */
async function enrolledWithThrottling(): Promise<Enrolled> {
  const database = openDatabase(await freshDatabaseUrl());
  const service = await startTestService(
    { RATE_LIMIT: 'on', LOGIN_THROTTLE_AFTER: '3' },
    { database, secretKey: randomBytes(32) },
  );
  const account = await service.auth.registerUser('bob@example.com', PASSWORD);
  const token = await logIn(service, 'bob@example.com');
  const pending = await service.auth.beginTwoFactorEnrolment(token, PASSWORD);
  if (typeof pending === 'string') throw new Error(pending);
  const confirmed = await service.auth.confirmTwoFactorEnrolment(
    token,
    totpCodeAt(pending.secret, service.clock.now()),
  );
  if (typeof confirmed === 'string') throw new Error(confirmed);
  service.clock.advanceSeconds(60);
  return {
    service,
    database,
    userId: account.id,
    token,
    secret: pending.secret,
    codes: confirmed.recoveryCodes,
  };
}
