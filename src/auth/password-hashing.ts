/**
 * The password hashers: bcrypt and argon2id, and the one the service uses, which hashes with the
 * configured algorithm and verifies with the algorithm of the stored hash itself.
 *
 * Guarantees:
 * - A stored hash is verified by its own prefix (`$2a$`, `$2b$`, `$2y$` bcrypt; `$argon2id$`,
 *   `$argon2i$`, `$argon2d$` PHC strings), whatever the configured algorithm, so switching
 *   algorithms locks nobody out. A value of no known format never verifies (and never throws).
 * - A bcrypt hash never verifies a password over 72 bytes: bcrypt would compare only its first 72.
 * - {@link PasswordHasher.needsRehash} is true for a hash of the other algorithm, or of weaker
 *   settings than configured (a lower bcrypt cost; a lower argon2 memory, iteration count or
 *   parallelism). A stronger one is kept.
 * - Hashes never run on the event loop: on libuv's thread pool ({@link threadPoolEngine}), or on
 *   threads of their own (`hash-threads.ts`).
 */
import { hash as argon2Hash, parseOptions, verify as argon2Verify } from '@node-rs/argon2';
import bcrypt from 'bcrypt';

/** bcrypt's input limit, in UTF-8 bytes. */
export const BCRYPT_MAX_BYTES = 72;

/** The libraries' operations, wherever they run. */
export interface HashEngine {
  bcryptHash(password: string, rounds: number): Promise<string>;
  bcryptCompare(password: string, hash: string): Promise<boolean>;
  argon2Hash(password: string, options: Argon2Options): Promise<string>;
  argon2Verify(hash: string, password: string): Promise<boolean>;
}

/** The argon2 library's names for {@link Argon2Settings}. */
export interface Argon2Options {
  readonly memoryCost: number;
  readonly timeCost: number;
  readonly parallelism: number;
}

/** The libraries' own asynchronous operations, on libuv's thread pool. */
export const threadPoolEngine: HashEngine = {
  bcryptHash: (password, rounds) => bcrypt.hash(password, rounds),
  bcryptCompare: (password, hash) => bcrypt.compare(password, hash),
  argon2Hash: (password, options) => argon2Hash(password, options),
  argon2Verify: (hash, password) => argon2Verify(hash, password),
};

/** What a caller may say about one hashing operation. */
export interface HashOptions {
  /** Aborted once nobody waits for the result: work not yet started is then dropped. */
  readonly signal?: AbortSignal | undefined;
}

export interface PasswordHasher {
  hash(password: string, options?: HashOptions): Promise<string>;
  verify(password: string, hash: string, options?: HashOptions): Promise<boolean>;
  /** True when `hash` should be replaced by a fresh one: another algorithm, weaker settings. */
  needsRehash(hash: string): boolean;
}

export type HashAlgorithm = 'bcrypt' | 'argon2id';
export const HASH_ALGORITHMS: readonly HashAlgorithm[] = ['bcrypt', 'argon2id'];

/** argon2id's cost settings (the PHC string's m, t and p). */
export interface Argon2Settings {
  /** Memory per hash, in KiB. */
  readonly memoryKib: number;
  readonly iterations: number;
  readonly parallelism: number;
}

/** OWASP's minimum for argon2id: 19 MiB, 2 iterations, 1 lane. */
export const ARGON2_DEFAULTS: Argon2Settings = { memoryKib: 19456, iterations: 2, parallelism: 1 };

/** The hashing a service is configured with. */
export interface HashSettings {
  readonly algorithm: HashAlgorithm;
  readonly bcryptRounds: number;
  readonly argon2: Argon2Settings;
}

/** The hashing settings of a configuration (config.ts's names). */
export function hashSettingsOf(config: {
  readonly passwordHash: HashAlgorithm;
  readonly bcryptRounds: number;
  readonly argon2MemoryKib: number;
  readonly argon2Iterations: number;
  readonly argon2Parallelism: number;
}): HashSettings {
  return {
    algorithm: config.passwordHash,
    bcryptRounds: config.bcryptRounds,
    argon2: {
      memoryKib: config.argon2MemoryKib,
      iterations: config.argon2Iterations,
      parallelism: config.argon2Parallelism,
    },
  };
}

/** The family a stored hash belongs to, by its prefix; undefined for an unknown format. */
export function hashFamily(hash: string): 'bcrypt' | 'argon2' | undefined {
  if (/^\$2[aby]\$\d\d\$/.test(hash)) return 'bcrypt';
  if (/^\$argon2(id|i|d)\$/.test(hash)) return 'argon2';
  return undefined;
}

/** A {@link PasswordHasher} using bcrypt at `rounds` (log2 of the work factor). */
export function bcryptHasher(rounds: number, engine = threadPoolEngine): PasswordHasher {
  return {
    hash: (password) => engine.bcryptHash(password, rounds),
    verify: async (password, hash) => {
      // `$2y$` (PHP's crypt_blowfish) is the same algorithm as `$2b$`, which the library reads.
      const matches = await engine.bcryptCompare(password, hash.replace(/^\$2y\$/, '$2b$'));
      // Compared anyway, so that the refusal costs what a wrong password costs.
      return matches && Buffer.byteLength(password, 'utf8') <= BCRYPT_MAX_BYTES;
    },
    needsRehash: (hash) => hashFamily(hash) !== 'bcrypt' || bcrypt.getRounds(hash) < rounds,
  };
}

/** The settings an argon2 hash was made with, or undefined when it is not a valid one. */
function argon2SettingsOf(hash: string): (Argon2Settings & { argon2id: boolean }) | undefined {
  try {
    const parsed = parseOptions(hash);
    return {
      memoryKib: parsed.memoryCost,
      iterations: parsed.timeCost,
      parallelism: parsed.parallelism,
      argon2id: hash.startsWith('$argon2id$'),
    };
  } catch {
    return undefined;
  }
}

/** A {@link PasswordHasher} using argon2id (version 0x13) with `settings`. */
export function argon2idHasher(
  settings: Argon2Settings,
  engine = threadPoolEngine,
): PasswordHasher {
  const options: Argon2Options = {
    memoryCost: settings.memoryKib,
    timeCost: settings.iterations,
    parallelism: settings.parallelism,
  };
  return {
    // The library's default algorithm is argon2id; its hashes say so in their prefix. No abort
    // signal is handed on: the hashing pool drops work not yet started, and started work is
    // already on a thread.
    hash: (password) => engine.argon2Hash(password, options),
    verify: (password, hash) => engine.argon2Verify(hash, password),
    needsRehash: (hash) => {
      const made = argon2SettingsOf(hash);
      return (
        made === undefined ||
        !made.argon2id ||
        made.memoryKib < settings.memoryKib ||
        made.iterations < settings.iterations ||
        made.parallelism < settings.parallelism
      );
    },
  };
}

/**
 * The service's hasher: new hashes with `settings.algorithm`; each stored hash verified by the
 * algorithm its prefix names; a hash of the other algorithm or of weaker settings needs a rehash.
 */
export function passwordHasher(settings: HashSettings, engine = threadPoolEngine): PasswordHasher {
  const bcryptOne = bcryptHasher(settings.bcryptRounds, engine);
  const argon2One = argon2idHasher(settings.argon2, engine);
  const configured = settings.algorithm === 'argon2id' ? argon2One : bcryptOne;
  const byFamily = (hash: string) => {
    const family = hashFamily(hash);
    return family === 'bcrypt' ? bcryptOne : family === 'argon2' ? argon2One : undefined;
  };
  return {
    hash: (password, options) => configured.hash(password, options),
    verify: async (password, hash, options) => {
      const hasher = byFamily(hash);
      if (hasher === undefined) return false;
      try {
        return await hasher.verify(password, hash, options);
      } catch {
        // A stored value of a known prefix but a malformed body matches nothing.
        return false;
      }
    },
    needsRehash: (hash) => configured.needsRehash(hash),
  };
}
