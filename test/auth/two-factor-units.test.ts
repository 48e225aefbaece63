/**
 * The pieces of two-factor authentication on their own: TOTP against RFC 6238's test vectors and
 * at the edges of its window, recovery codes' shape and normalization, and the secret box.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { generateSync } from 'otplib';
import {
  generateRecoveryCodes,
  normalizeRecoveryCode,
  RECOVERY_CODE_ALPHABET,
  recoveryCodeHash,
} from '../../src/auth/recovery-codes.js';
import { createSecretBox, deriveKey, SecretBoxError } from '../../src/auth/secret-box.js';
import {
  generateTotpSecret,
  matchingStep,
  otpauthUrl,
  parseTotpCode,
  totpStepAt,
} from '../../src/auth/totp.js';
import { totpCodeAt } from '../support/totp.js';

/** RFC 6238 Appendix B's SHA-1 key, the ASCII "12345678901234567890", in base32. */
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
/** Appendix B's SHA-1 rows: time (seconds), 8-digit TOTP. */
const RFC_VECTORS: [number, string][] = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
];

describe('TOTP', () => {
  for (const [seconds, expected] of RFC_VECTORS) {
    it(`gives RFC 6238's SHA-1 code at T = ${seconds}, and matches its step`, () => {
      assert.equal(generateSync({ secret: RFC_SECRET, epoch: seconds, digits: 8 }), expected);
      // Six digits are the last six of the eight (RFC 4226 §5.3: the value modulo 10^digits).
      assert.equal(totpCodeAt(RFC_SECRET, seconds * 1000), expected.slice(2));
      assert.equal(
        matchingStep(RFC_SECRET, expected.slice(2), seconds * 1000),
        Math.floor(seconds / 30),
      );
    });
  }

  it('accepts the codes of the step before and after, at both ends of a step; not two away', () => {
    const secret = generateTotpSecret();
    const step = 58_000_000;
    for (const nowMs of [step * 30_000, step * 30_000 + 29_999]) {
      for (const offset of [-1, 0, 1]) {
        const code = totpCodeAt(secret, (step + offset) * 30_000);
        assert.equal(matchingStep(secret, code, nowMs), step + offset, `offset ${offset}`);
      }
      for (const offset of [-2, 2, -3, 3]) {
        const code = totpCodeAt(secret, (step + offset) * 30_000);
        // A code of two steps away may equal a nearer one by chance (1 in 10^6): skip that case.
        const nearer = [-1, 0, 1].map((near) => totpCodeAt(secret, (step + near) * 30_000));
        if (nearer.includes(code)) continue;
        assert.equal(matchingStep(secret, code, nowMs), null, `offset ${offset}`);
      }
    }
    assert.equal(totpStepAt(step * 30_000 + 29_999), step);
  });

  it('reads six ASCII digits, spaces dropped, and nothing else', () => {
    const secret = generateTotpSecret();
    const now = Date.UTC(2026, 0, 1);
    const code = totpCodeAt(secret, now);
    assert.equal(
      matchingStep(secret, ` ${code.slice(0, 3)} ${code.slice(3)} `, now),
      totpStepAt(now),
    );
    const arabicIndic = code.replace(/[0-9]/g, (digit) =>
      String.fromCharCode(0x660 + Number(digit)),
    );
    for (const bad of [
      '',
      '12345',
      '1234567',
      `${code}0`,
      `0${code}`,
      arabicIndic,
      '12a456',
      `${code}\n`,
      '１２３４５６',
    ]) {
      assert.equal(parseTotpCode(bad), null, JSON.stringify(bad));
      assert.equal(matchingStep(secret, bad, now), null, JSON.stringify(bad));
    }
  });

  it('makes 20-byte base32 secrets and an otpauth URL that names the issuer and account', () => {
    const secret = generateTotpSecret();
    assert.match(secret, /^[A-Z2-7]{32}$/);
    assert.notEqual(generateTotpSecret(), secret);
    const url = new URL(otpauthUrl({ secret, issuer: 'Bienvenue', label: 'bob@example.com' }));
    assert.equal(url.protocol, 'otpauth:');
    assert.equal(url.host, 'totp');
    assert.equal(decodeURIComponent(url.pathname), '/Bienvenue:bob@example.com');
    assert.equal(url.searchParams.get('secret'), secret);
    assert.equal(url.searchParams.get('issuer'), 'Bienvenue');
  });
});

describe('recovery codes', () => {
  it('makes ten distinct codes of ten symbols without look-alikes, grouped by five', () => {
    const codes = generateRecoveryCodes();
    assert.equal(codes.length, 10);
    assert.equal(new Set(codes).size, 10);
    for (const code of codes) assert.match(code, /^[2-9a-hjkmnp-z]{5}-[2-9a-hjkmnp-z]{5}$/);
    assert.equal(RECOVERY_CODE_ALPHABET.length, 31);
    for (const lookAlike of '01oOlI')
      assert.equal(RECOVERY_CODE_ALPHABET.includes(lookAlike), false);
    // 10 symbols of 31: at least 48 bits.
    assert.ok(10 * Math.log2(RECOVERY_CODE_ALPHABET.length) >= 48);
  });

  it('compares codes whatever their case, spaces and dashes', () => {
    const [code = ''] = generateRecoveryCodes();
    const plain = code.replace('-', '');
    for (const typed of [
      code,
      code.toUpperCase(),
      plain,
      ` ${plain.slice(0, 5)} ${plain.slice(5)} `,
      `${code.slice(0, 2)}-${code.slice(2)}`,
    ]) {
      assert.equal(normalizeRecoveryCode(typed), plain, typed);
    }
    for (const bad of [
      '',
      plain.slice(1),
      `${plain}2`,
      `${plain.slice(1)}0`,
      `${plain.slice(1)}l`,
      'x'.repeat(100),
    ]) {
      assert.equal(normalizeRecoveryCode(bad), null, bad);
    }
  });

  it('hashes under a key: another key gives another hash', () => {
    const key = randomBytes(32);
    assert.match(recoveryCodeHash('abcdefghjk', key), /^[0-9a-f]{64}$/);
    assert.equal(recoveryCodeHash('abcdefghjk', key), recoveryCodeHash('abcdefghjk', key));
    assert.notEqual(
      recoveryCodeHash('abcdefghjk', key),
      recoveryCodeHash('abcdefghjk', randomBytes(32)),
    );
  });
});

describe('secret box', () => {
  it('opens what it sealed, and nothing sealed under another key or altered', () => {
    const key = randomBytes(32);
    const box = createSecretBox(key);
    const sealed = box.seal('JBSWY3DPEHPK3PXP');
    assert.match(sealed, /^v1\.[A-Za-z0-9_-]+$/);
    assert.equal(sealed.includes('JBSWY3DPEHPK3PXP'), false);
    assert.notEqual(box.seal('JBSWY3DPEHPK3PXP'), sealed, 'a fresh IV each time');
    assert.equal(box.open(sealed), 'JBSWY3DPEHPK3PXP');
    assert.throws(() => createSecretBox(randomBytes(32)).open(sealed), SecretBoxError);
    const body = Buffer.from(sealed.slice(3), 'base64url');
    body[body.length - 1] = (body.at(-1) ?? 0) ^ 1;
    assert.throws(() => box.open(`v1.${body.toString('base64url')}`), SecretBoxError);
    for (const bad of ['', 'v1.', 'v2.' + sealed.slice(3), 'JBSWY3DPEHPK3PXP']) {
      assert.throws(() => box.open(bad), SecretBoxError, bad);
    }
    assert.throws(() => createSecretBox(randomBytes(16)), RangeError);
  });

  it('derives distinct subkeys per purpose', () => {
    const key = randomBytes(32);
    assert.equal(deriveKey(key, 'recovery-codes').length, 32);
    assert.deepEqual(deriveKey(key, 'recovery-codes'), deriveKey(key, 'recovery-codes'));
    assert.notDeepEqual(deriveKey(key, 'recovery-codes'), deriveKey(key, 'other'));
    assert.notDeepEqual(deriveKey(key, 'recovery-codes'), key);
  });
});
