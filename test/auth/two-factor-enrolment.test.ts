/**
 * Two-factor authentication through the Auth service, on the engine under test: enrolment and
 * its confirmation (pending until then, other sessions ended after), turning it off, new
 * recovery codes and the operator's reset.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { TwoFactorUnavailableError } from '../../src/auth/errors.js';
import { totpCodeAt } from '../support/totp.js';
import { auditTypes, enrolled, logIn, PASSWORD, startWithDatabase } from '../support/two-factor.js';

describe('two-factor enrolment', () => {
  it('is pending until a code confirms it, then on with ten recovery codes', async () => {
    const { service } = await startWithDatabase();
    const bob = await service.auth.registerUser('bob@example.com', PASSWORD);
    const token = await logIn(service, 'bob@example.com');
    assert.equal(
      await service.auth.twoFactor.beginEnrolment(token, 'wrong password'),
      'wrong_password',
    );
    assert.equal(
      await service.auth.twoFactor.beginEnrolment('not a session', PASSWORD),
      'not_logged_in',
    );
    const first = await service.auth.twoFactor.beginEnrolment(token, PASSWORD);
    assert.ok(typeof first !== 'string');
    assert.match(first.secret, /^[A-Z2-7]{32}$/);
    assert.ok(first.otpauthUrl.startsWith('otpauth://totp/'));
    assert.equal(new URL(first.otpauthUrl).searchParams.get('issuer'), 'Bienvenue (auth.test)');
    assert.deepEqual(await service.auth.twoFactor.status(bob.id), {
      enabled: false,
      recoveryCodesLeft: 0,
    });
    // Beginning again replaces the pending secret: the first one's codes no longer confirm.
    const second = await service.auth.twoFactor.beginEnrolment(token, PASSWORD);
    assert.ok(typeof second !== 'string');
    assert.notEqual(second.secret, first.secret);
    const now = service.clock.now();
    assert.equal(
      await service.auth.twoFactor.confirmEnrolment(token, totpCodeAt(first.secret, now)),
      'invalid_code',
    );
    assert.equal(await service.auth.twoFactor.confirmEnrolment(token, 'abcdef'), 'invalid_code');
    const confirmed = await service.auth.twoFactor.confirmEnrolment(
      token,
      totpCodeAt(second.secret, now),
    );
    assert.ok(typeof confirmed !== 'string');
    assert.equal(confirmed.recoveryCodes.length, 10);
    assert.deepEqual(await service.auth.twoFactor.status(bob.id), {
      enabled: true,
      recoveryCodesLeft: 10,
    });
    assert.equal(await service.auth.twoFactor.beginEnrolment(token, PASSWORD), 'already_enabled');
    assert.equal(
      await service.auth.twoFactor.confirmEnrolment(token, totpCodeAt(second.secret, now)),
      'not_pending',
    );
    // The confirming code's step is used: it does not work again at login.
    assert.equal(
      await service.auth.twoFactor.verifySecondStep(bob.id, totpCodeAt(second.secret, now)),
      null,
    );
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
    const pending = await service.auth.twoFactor.beginEnrolment(token, PASSWORD);
    assert.ok(typeof pending !== 'string');
    assert.ok(await service.auth.getUserFromSessionId(other), 'still live before confirmation');
    const confirmed = await service.auth.twoFactor.confirmEnrolment(
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
    const pending = await service.auth.twoFactor.beginEnrolment(token, PASSWORD);
    assert.ok(typeof pending !== 'string');
    const code = totpCodeAt(pending.secret, service.clock.now());
    const results = await Promise.all(
      Array.from({ length: 5 }, () => service.auth.twoFactor.confirmEnrolment(token, code)),
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
    assert.equal(service.auth.twoFactor.available, false);
    await assert.rejects(
      service.auth.twoFactor.beginEnrolment(token, PASSWORD),
      TwoFactorUnavailableError,
    );
    assert.deepEqual(await service.auth.twoFactor.status(bob.id), {
      enabled: false,
      recoveryCodesLeft: 0,
    });
  });
});

describe('turning it off and new recovery codes', () => {
  it('turns off only with the password and a code, either kind', async () => {
    const { service, userId, token, secret, codes } = await enrolled();
    const code = () => totpCodeAt(secret, service.clock.now());
    assert.equal(
      await service.auth.twoFactor.disable(token, { password: 'wrong', code: code() }),
      'wrong_password',
    );
    assert.equal(
      await service.auth.twoFactor.disable(token, {
        password: PASSWORD,
        code: '000000' === code() ? '111111' : '000000',
      }),
      'invalid_code',
    );
    assert.equal((await service.auth.twoFactor.status(userId)).enabled, true);
    assert.equal(
      await service.auth.twoFactor.disable(token, { password: PASSWORD, code: codes[0] ?? '' }),
      true,
    );
    assert.deepEqual(await service.auth.twoFactor.status(userId), {
      enabled: false,
      recoveryCodesLeft: 0,
    });
    assert.equal(await service.auth.twoFactor.verifySecondStep(userId, code()), null);
    assert.equal(
      await service.auth.twoFactor.disable(token, { password: PASSWORD, code: code() }),
      'not_enabled',
    );
    assert.ok((await auditTypes(service)).includes('totp_disabled'));
  });

  it('counts wrong codes with the password, so guessing them is throttled', async () => {
    const { service, token, secret } = await enrolled({
      env: { RATE_LIMIT: 'on', LOGIN_THROTTLE_AFTER: '3' },
    });
    const wrong = () => {
      const right = totpCodeAt(secret, service.clock.now());
      return right === '000000' ? '111111' : '000000';
    };
    for (let attempt = 0; attempt < 3; attempt += 1) {
      assert.equal(
        await service.auth.twoFactor.disable(token, { password: PASSWORD, code: wrong() }),
        'invalid_code',
      );
    }
    await assert.rejects(
      service.auth.twoFactor.disable(token, { password: PASSWORD, code: wrong() }),
      { name: 'TooManyAttemptsError' },
    );
  });

  it('replaces every recovery code, given the password', async () => {
    const { service, userId, token, codes } = await enrolled();
    assert.equal(
      await service.auth.twoFactor.verifySecondStep(userId, codes[0] ?? ''),
      'recovery_code',
    );
    assert.equal(await service.auth.twoFactor.regenerateCodes(token, 'wrong'), 'wrong_password');
    const renewed = await service.auth.twoFactor.regenerateCodes(token, PASSWORD);
    assert.ok(typeof renewed !== 'string');
    assert.equal(renewed.recoveryCodes.length, 10);
    assert.equal((await service.auth.twoFactor.status(userId)).recoveryCodesLeft, 10);
    assert.equal(
      await service.auth.twoFactor.verifySecondStep(userId, codes[1] ?? ''),
      null,
      'old codes are gone',
    );
    assert.equal(
      await service.auth.twoFactor.verifySecondStep(userId, renewed.recoveryCodes[0] ?? ''),
      'recovery_code',
    );
    assert.ok((await auditTypes(service)).includes('recovery_codes_regenerated'));
  });

  it('is reset by the operator: off, and every session of the account ended', async () => {
    const { service, userId, token, secret } = await enrolled();
    // With the factor on, a login needs a code: the other session is opened directly.
    const other = await service.auth.createSession('bob@example.com');
    assert.ok(other);
    assert.equal(await service.auth.twoFactor.resetByOperator(userId), true);
    assert.equal((await service.auth.twoFactor.status(userId)).enabled, false);
    assert.equal(await service.auth.getUserFromSessionId(token), null);
    assert.equal(await service.auth.getUserFromSessionId(other), null);
    assert.equal(
      await service.auth.twoFactor.verifySecondStep(
        userId,
        totpCodeAt(secret, service.clock.now()),
      ),
      null,
    );
    assert.equal(await service.auth.twoFactor.resetByOperator(userId), false);
    await service.auth.drain();
    const ended = await service.admin.events({ type: 'session_ended', limit: 10 });
    assert.deepEqual(new Set(ended.map((event) => event.reason)), new Set(['two_factor_reset']));
    assert.ok((await auditTypes(service)).includes('totp_disabled'));
  });
});
