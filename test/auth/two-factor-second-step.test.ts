/**
 * The second step of a login through the Auth service, on the engine under test: the step window,
 * no replay, one winner among concurrent uses of a code or a recovery code, recovery codes typed
 * any way, and what the database holds (no secret in the clear, a login challenge as a digest;
 * nothing once the account goes).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import type { Database } from '../../src/db/connection.js';
import { totpCodeAt } from '../support/totp.js';
import { auditTypes, enrolled, PASSWORD } from '../support/two-factor.js';

describe('the second step', () => {
  it('accepts the codes of the previous, current and next step; not two steps away', async () => {
    const { service, userId, secret } = await enrolled();
    const at = (offsetSteps: number) =>
      totpCodeAt(secret, service.clock.now() + offsetSteps * 30_000);
    const nearby = new Set([at(-1), at(0), at(1)]);
    for (const far of [at(-2), at(2)]) {
      if (nearby.has(far)) continue; // the same six digits by chance (1 in 10^6)
      assert.equal(await service.auth.twoFactor.verifySecondStep(userId, far), null);
    }
    // In increasing order, since an earlier step than the last used is refused.
    assert.equal(await service.auth.twoFactor.verifySecondStep(userId, at(-1)), 'totp');
    assert.equal(await service.auth.twoFactor.verifySecondStep(userId, at(0)), 'totp');
    assert.equal(await service.auth.twoFactor.verifySecondStep(userId, at(1)), 'totp');
  });

  it('refuses the same code again, and a code of an earlier step than one used', async () => {
    const { service, userId, secret } = await enrolled();
    const now = service.clock.now();
    const current = totpCodeAt(secret, now);
    const previous = totpCodeAt(secret, now - 30_000);
    assert.equal(await service.auth.twoFactor.verifySecondStep(userId, current), 'totp');
    assert.equal(await service.auth.twoFactor.verifySecondStep(userId, current), null);
    if (previous !== current) {
      assert.equal(await service.auth.twoFactor.verifySecondStep(userId, previous), null);
    }
    service.clock.advanceSeconds(30);
    assert.equal(
      await service.auth.twoFactor.verifySecondStep(userId, current),
      null,
      'now the previous step, but used',
    );
    assert.equal(
      await service.auth.twoFactor.verifySecondStep(
        userId,
        totpCodeAt(secret, service.clock.now()),
      ),
      'totp',
    );
  });

  it('lets exactly one of ten concurrent uses of one code through', async () => {
    const { service, userId, secret } = await enrolled();
    const code = totpCodeAt(secret, service.clock.now());
    const results = await Promise.all(
      Array.from({ length: 10 }, () => service.auth.twoFactor.verifySecondStep(userId, code)),
    );
    assert.equal(results.filter((result) => result === 'totp').length, 1);
    assert.equal(results.filter((result) => result === null).length, 9);
  });

  it('takes each recovery code once, typed in any case, with spaces or without its dash', async () => {
    const { service, userId, codes } = await enrolled();
    const [first = '', second = '', third = ''] = codes;
    assert.equal(
      await service.auth.twoFactor.verifySecondStep(userId, first.toUpperCase()),
      'recovery_code',
    );
    assert.equal(await service.auth.twoFactor.verifySecondStep(userId, first), null);
    assert.equal(
      await service.auth.twoFactor.verifySecondStep(userId, ` ${second.replace('-', ' ')} `),
      'recovery_code',
    );
    assert.equal(
      await service.auth.twoFactor.verifySecondStep(userId, third.replace('-', '')),
      'recovery_code',
    );
    assert.equal(await service.auth.twoFactor.verifySecondStep(userId, 'zzzzz-zzzzz'), null);
    assert.equal((await service.auth.twoFactor.status(userId)).recoveryCodesLeft, 7);
    const types = await auditTypes(service);
    assert.equal(types.filter((type) => type === 'recovery_code_used').length, 3);
  });

  it('lets exactly one of ten concurrent uses of one recovery code through', async () => {
    const { service, userId, codes } = await enrolled();
    const code = codes[0] ?? '';
    const results = await Promise.all(
      Array.from({ length: 10 }, () => service.auth.twoFactor.verifySecondStep(userId, code)),
    );
    assert.equal(results.filter((result) => result === 'recovery_code').length, 1);
    assert.equal((await service.auth.twoFactor.status(userId)).recoveryCodesLeft, 9);
  });

  it('refuses the codes of another account, and an account without the factor', async () => {
    const { service, userId, codes, secret } = await enrolled();
    const eve = await service.auth.registerUser('eve@example.com', PASSWORD);
    assert.equal(await service.auth.twoFactor.verifySecondStep(eve.id, codes[0] ?? ''), null);
    assert.equal(
      await service.auth.twoFactor.verifySecondStep(
        eve.id,
        totpCodeAt(secret, service.clock.now()),
      ),
      null,
    );
    assert.equal(
      await service.auth.twoFactor.verifySecondStep(userId, codes[0] ?? ''),
      'recovery_code',
    );
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

  it('holds a login challenge only as the digest of its token, for 5 minutes', async () => {
    const { service, database, userId } = await enrolled();
    const login = await service.auth.login('bob@example.com', PASSWORD);
    assert.equal(login.outcome, 'second_factor_required');
    const { challengeToken } = login;
    const { rows } = await sql<Record<string, unknown>>`SELECT * FROM login_challenges`.execute(
      database.kysely,
    );
    assert.equal(JSON.stringify(rows).includes(challengeToken), false, 'not the token');
    assert.deepEqual(
      rows.map((row) => [row.token_digest, Number(row.user_id), Number(row.attempts)]),
      [[createHash('sha256').update(challengeToken).digest('hex'), userId, 0]],
    );
    const [row] = rows;
    assert.equal(Number(row?.expires_at) - Number(row?.created_at), 5 * 60 * 1000);
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
