/**
 * Password hashing and policy. bcrypt runs on libuv's thread pool (the async API), so a hash never
 * blocks the event loop. bcrypt reads at most 72 bytes and stops at a NUL byte, so passwords that
 * would be cut short are refused rather than silently truncated.
 */
import { dictionary } from '@zxcvbn-ts/language-common';
import bcrypt from 'bcrypt';
import { PasswordPolicyError } from './errors.js';

/** bcrypt's input limit, in UTF-8 bytes. */
export const BCRYPT_MAX_BYTES = 72;

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(password: string, hash: string): Promise<boolean>;
  /** True when `hash` was made with other settings than the current ones. */
  needsRehash(hash: string): boolean;
}

/** A {@link PasswordHasher} using bcrypt at `rounds` (log2 of the work factor). */
export function bcryptHasher(rounds: number): PasswordHasher {
  return {
    hash: (password) => bcrypt.hash(password, rounds),
    verify: (password, hash) => bcrypt.compare(password, hash),
    needsRehash: (hash) => bcrypt.getRounds(hash) !== rounds,
  };
}

/**
 * `hasher`, running at most `limit` bcrypt operations at once; the others wait their turn in
 * order. bcrypt saturates a core per operation, so a limit below the number of cores leaves CPU
 * to the event loop, and session checks stay fast while logins pour in.
 */
export function limitConcurrency(hasher: PasswordHasher, limit: number): PasswordHasher {
  let running = 0;
  const waiting: (() => void)[] = [];
  const run = async <T>(operation: () => Promise<T>): Promise<T> => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    else running += 1;
    try {
      return await operation();
    } finally {
      // Hand the slot straight to the next waiter, or free it.
      const next = waiting.shift();
      if (next === undefined) running -= 1;
      else next();
    }
  };
  return {
    hash: (password) => run(() => hasher.hash(password)),
    verify: (password, hash) => run(() => hasher.verify(password, hash)),
    needsRehash: (hash) => hasher.needsRehash(hash),
  };
}

/**
 * The canonical form of a password: Unicode NFC, so the same password typed on different systems
 * (composed or decomposed accents) is the same password.
 */
export function normalizePassword(password: string): string {
  return password.normalize('NFC');
}

/**
 * Passwords that appear in leaked password lists (about 49,000, from the zxcvbn-ts project),
 * compared without regard to case.
 */
const COMMON_PASSWORDS: ReadonlySet<string> = new Set(
  dictionary['passwords-common'].map((password) => password.toLowerCase()),
);

/**
 * Why `password` (already normalized) could never be stored faithfully by bcrypt, or null:
 * a NUL character, an unpaired surrogate, more than 72 bytes.
 */
export function unusablePasswordReason(password: string): string | null {
  if (password.includes('\0')) return 'Password must not contain NUL characters';
  if (/\p{Cs}/u.test(password)) return 'Password must be valid Unicode text';
  if (Buffer.byteLength(password, 'utf8') > BCRYPT_MAX_BYTES) {
    return `Password must be at most ${BCRYPT_MAX_BYTES} bytes long (bcrypt ignores anything beyond that)`;
  }
  return null;
}

/** Why `password` (already normalized) may not be set as a new password, or null when it may. */
export function passwordProblem(password: string, minLength: number): string | null {
  if (Array.from(password).length < minLength) {
    return `Password must be at least ${minLength} characters long`;
  }
  const unusable = unusablePasswordReason(password);
  if (unusable !== null) return unusable;
  if (COMMON_PASSWORDS.has(password.toLowerCase())) {
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
  ) {}

  async accept(password: string): Promise<string> {
    const normalized = normalizePassword(password);
    const problem = passwordProblem(normalized, this.minLength);
    if (problem !== null) throw new PasswordPolicyError(problem);
    if (this.breachCheck !== undefined && (await this.breachCheck(normalized))) {
      throw new PasswordPolicyError(
        'This password has appeared in a data breach (according to Have I Been Pwned), so attackers may try it: choose another',
      );
    }
    return normalized;
  }
}
