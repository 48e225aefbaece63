/**
 * Password hashing and policy. bcrypt runs on libuv's thread pool (the async API), so a hash never
 * blocks the event loop. bcrypt reads at most 72 bytes and stops at a NUL byte, so passwords that
 * would be cut short are refused rather than silently truncated.
 */
import { dictionary } from '@zxcvbn-ts/language-common';
import bcrypt from 'bcrypt';
import { BusyError, PasswordPolicyError, RequestAbandonedError } from './errors.js';

/** bcrypt's input limit, in UTF-8 bytes. */
export const BCRYPT_MAX_BYTES = 72;

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

/** What a caller may say about one hashing operation. */
export interface HashOptions {
  /** Aborted once nobody waits for the result: work not yet started is then dropped. */
  readonly signal?: AbortSignal | undefined;
}

export interface PasswordHasher {
  hash(password: string, options?: HashOptions): Promise<string>;
  verify(password: string, hash: string, options?: HashOptions): Promise<boolean>;
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
 * Operations that may wait for a slot, per slot, by default (see {@link limitConcurrency}). Room
 * for a burst: a client's hang-up is seen a moment after its request, so the requests of a burst
 * of abandoned logins all queue before their hang-ups drop them, and a smaller queue would then
 * refuse the real logins that arrive with them (measured: 16 refused one run in three).
 */
export const HASH_QUEUE_PER_SLOT = 64;
/** What a full queue tells callers to wait before retrying. */
const BUSY_RETRY_AFTER_SECONDS = 2;

/**
 * `hasher`, running at most `limit` bcrypt operations at once; the others wait their turn in
 * order. bcrypt saturates a core per operation, so a limit below the number of cores leaves CPU
 * to the event loop, and session checks stay fast while logins pour in.
 *
 * The queue is bounded: with `maxWaiting` operations already waiting, a new one is refused at
 * once with {@link BusyError}, so a flood costs a bounded wait, never an unbounded one. An
 * operation whose `signal` is aborted before it starts (its client hung up) leaves the queue and
 * never runs; it rejects with {@link RequestAbandonedError}. One already running finishes.
 */
export function limitConcurrency(
  hasher: PasswordHasher,
  limit: number,
  options: { readonly maxWaiting?: number } = {},
): PasswordHasher {
  const maxWaiting = options.maxWaiting ?? limit * HASH_QUEUE_PER_SLOT;
  let running = 0;
  const waiting: (() => void)[] = [];
  /** Resolves when `operation` may start: at once, or when a finishing one hands its slot over. */
  const slot = (signal: AbortSignal | undefined): Promise<void> => {
    if (signal?.aborted) return Promise.reject(new RequestAbandonedError());
    if (running < limit) {
      running += 1;
      return Promise.resolve();
    }
    if (waiting.length >= maxWaiting) {
      return Promise.reject(new BusyError(BUSY_RETRY_AFTER_SECONDS));
    }
    return new Promise<void>((resolve, reject) => {
      const start = () => {
        signal?.removeEventListener('abort', drop);
        resolve();
      };
      const drop = () => {
        const index = waiting.indexOf(start);
        if (index !== -1) waiting.splice(index, 1);
        reject(new RequestAbandonedError());
      };
      signal?.addEventListener('abort', drop, { once: true });
      waiting.push(start);
    });
  };
  const run = async <T>(signal: AbortSignal | undefined, operation: () => Promise<T>) => {
    await slot(signal);
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
    hash: (password, hashOptions) =>
      run(hashOptions?.signal, () => hasher.hash(password, hashOptions)),
    verify: (password, hash, hashOptions) =>
      run(hashOptions?.signal, () => hasher.verify(password, hash, hashOptions)),
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
