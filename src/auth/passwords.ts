/**
 * Password policy. The hashers are in password-hashing.ts and the pool that runs them in
 * hash-pool.ts (re-exported here). bcrypt reads at most 72 bytes and stops at a NUL byte, so with
 * bcrypt, passwords that would be cut short are refused rather than silently truncated; with
 * argon2id, passwords may be up to the configured number of characters.
 */
import { createRequire } from 'node:module';
import type { dictionary as Dictionary } from '@zxcvbn-ts/language-common';
import { PasswordPolicyError } from './errors.js';
import { BCRYPT_MAX_BYTES, type HashAlgorithm } from './password-hashing.js';

export {
  ARGON2_DEFAULTS,
  BCRYPT_MAX_BYTES,
  argon2idHasher,
  bcryptHasher,
  passwordHasher,
  type Argon2Settings,
  type HashAlgorithm,
  type HashOptions,
  type HashSettings,
  type PasswordHasher,
} from './password-hashing.js';
export { HASH_QUEUE_PER_SLOT, limitConcurrency } from './hash-pool.js';

/** Characters a password may have at most, by default (PASSWORD_MAX_LENGTH). */
export const DEFAULT_PASSWORD_MAX_LENGTH = 128;

/** How long a password may be: bcrypt's byte limit applies only when bcrypt hashes. */
export interface PasswordLength {
  readonly algorithm: HashAlgorithm;
  /** Characters (code points) at most. */
  readonly maxLength: number;
}

/** bcrypt, 128 characters: what a service holds without settings. */
export const BCRYPT_LENGTH: PasswordLength = {
  algorithm: 'bcrypt',
  maxLength: DEFAULT_PASSWORD_MAX_LENGTH,
};

/**
 * What an account that has no password yet (an invited one) holds in place of a hash. No hasher
 * makes a value starting with `!` (bcrypt's begin with `$`), so it can never verify; callers
 * check {@link hasPassword} and never hand it to a hasher.
 */
export const NO_PASSWORD = '!no-password';

/** False for {@link NO_PASSWORD} (and anything else starting with `!`): there is nothing to check. */
export function hasPassword(hashedPassword: string): boolean {
  return !hashedPassword.startsWith('!');
}

/**
 * The canonical form of a password: Unicode NFC, so the same password typed on different systems
 * (composed or decomposed accents) is the same password.
 */
export function normalizePassword(password: string): string {
  return password.normalize('NFC');
}

let commonPasswords: ReadonlySet<string> | undefined;

/**
 * Passwords that appear in leaked password lists (about 49,000, from the zxcvbn-ts project),
 * compared without regard to case. Loaded at the first password checked, not at start.
 */
function isCommonPassword(password: string): boolean {
  if (commonPasswords === undefined) {
    const { dictionary } = createRequire(import.meta.url)('@zxcvbn-ts/language-common') as {
      dictionary: typeof Dictionary;
    };
    commonPasswords = new Set(dictionary['passwords-common'].map((word) => word.toLowerCase()));
  }
  return commonPasswords.has(password.toLowerCase());
}

/**
 * Why `password` (already normalized) could never be stored faithfully, or null: a NUL character,
 * an unpaired surrogate, more than `length.maxLength` characters, and with bcrypt more than
 * 72 bytes.
 */
export function unusablePasswordReason(
  password: string,
  length: PasswordLength = BCRYPT_LENGTH,
): string | null {
  if (password.includes('\0')) return 'Password must not contain NUL characters';
  if (/\p{Cs}/u.test(password)) return 'Password must be valid Unicode text';
  if (length.algorithm === 'bcrypt' && Buffer.byteLength(password, 'utf8') > BCRYPT_MAX_BYTES) {
    return `Password must be at most ${BCRYPT_MAX_BYTES} bytes long (bcrypt ignores anything beyond that)`;
  }
  if (Array.from(password).length > length.maxLength) {
    return `Password must be at most ${length.maxLength} characters long`;
  }
  return null;
}

/** Why `password` (already normalized) may not be set as a new password, or null when it may. */
export function passwordProblem(
  password: string,
  minLength: number,
  length: PasswordLength = BCRYPT_LENGTH,
): string | null {
  if (Array.from(password).length < minLength) {
    return `Password must be at least ${minLength} characters long`;
  }
  const unusable = unusablePasswordReason(password, length);
  if (unusable !== null) return unusable;
  if (isCommonPassword(password)) {
    return 'This password is too common: it is on lists of passwords leaked in data breaches, which attackers try first';
  }
  return null;
}

/**
 * The rules a new password must meet: the policy above, then, when configured, the breach check.
 * Returns the normalized password or throws a {@link PasswordPolicyError} saying which rule failed.
 */
export class PasswordRules {
  constructor(
    private readonly minLength: number,
    private readonly breachCheck?: (password: string) => Promise<boolean>,
    /** The length limits; bcrypt's, 128 characters, by default. */
    readonly length: PasswordLength = BCRYPT_LENGTH,
  ) {}

  async accept(password: string): Promise<string> {
    const normalized = normalizePassword(password);
    const problem = passwordProblem(normalized, this.minLength, this.length);
    if (problem !== null) throw new PasswordPolicyError(problem);
    if (this.breachCheck !== undefined && (await this.breachCheck(normalized))) {
      throw new PasswordPolicyError(
        'This password has appeared in a data breach (according to Have I Been Pwned), so attackers may try it: choose another',
      );
    }
    return normalized;
  }
}
