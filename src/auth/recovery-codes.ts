/**
 * Recovery codes: the way in when the authenticator app is lost. Ten per account, each ten
 * symbols drawn with `crypto.randomInt` from 31 that cannot be mistaken for one another (no
 * 0/O, 1/l/I), so about 49.5 bits each, shown as `xxxxx-xxxxx`. What a user types is compared
 * after dropping case, spaces and dashes.
 *
 * Only a keyed hash is stored: HMAC-SHA256 under a subkey of the service's key. With ~50 bits a
 * code, a plain SHA-256 could be reversed by trying every code against a copied database; with
 * the key kept out of the database, a copy alone tells nothing. (Codes exist only where the key
 * does: without it no factor can be enabled, so there is no unkeyed fallback.)
 */
import { createHmac, randomInt } from 'node:crypto';

/** The symbols of a code: digits and lower-case letters without look-alikes. */
export const RECOVERY_CODE_ALPHABET = '23456789abcdefghjkmnpqrstuvwxyz';
export const RECOVERY_CODE_LENGTH = 10;
export const RECOVERY_CODE_COUNT = 10;

const NORMALIZED = new RegExp(`^[${RECOVERY_CODE_ALPHABET}]{${RECOVERY_CODE_LENGTH}}$`);

/** A fresh set of codes, as shown to the user (`xxxxx-xxxxx`). */
export function generateRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    let code = '';
    for (let i = 0; i < RECOVERY_CODE_LENGTH; i += 1) {
      code += RECOVERY_CODE_ALPHABET.charAt(randomInt(RECOVERY_CODE_ALPHABET.length));
    }
    return `${code.slice(0, 5)}-${code.slice(5)}`;
  });
}

/**
 * `input` as a code in its compared form (lower case, no spaces nor dashes), or null when it
 * cannot be one (wrong length, or a symbol outside the alphabet).
 */
export function normalizeRecoveryCode(input: string): string | null {
  if (input.length > 64) return null;
  const code = input.replace(/[\s-]/g, '').toLowerCase();
  return NORMALIZED.test(code) ? code : null;
}

/** The stored form of a normalized code: HMAC-SHA256 under `key`, hex. */
export function recoveryCodeHash(normalizedCode: string, key: Buffer): string {
  return createHmac('sha256', key).update(normalizedCode, 'utf8').digest('hex');
}
