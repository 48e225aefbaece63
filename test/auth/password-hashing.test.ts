/**
 * Units of password hashing: the hashers and their prefixes, `needsRehash`, the length limits of
 * each algorithm, and the adaptive hashing pool, driven by injected load signals (no timing).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  adaptiveLimit,
  BUSY_UTILIZATION,
  hashPool,
  IDLE_UTILIZATION,
  type LoadSampler,
} from '../../src/auth/hash-pool.js';
import {
  argon2idHasher,
  bcryptHasher,
  hashFamily,
  passwordHasher,
  type HashSettings,
  type PasswordHasher,
} from '../../src/auth/password-hashing.js';
import { passwordProblem, unusablePasswordReason } from '../../src/auth/passwords.js';

/** Cheap settings: the tests exercise behaviour, not strength. */
const ARGON2 = { memoryKib: 1024, iterations: 1, parallelism: 1 };
const BCRYPT: HashSettings = { algorithm: 'bcrypt', bcryptRounds: 4, argon2: ARGON2 };
const ARGON2ID: HashSettings = { ...BCRYPT, algorithm: 'argon2id' };
const CJK_100 = '密码安全很重要'.repeat(15).slice(0, 100);

describe('hashFamily', () => {
  it('reads bcrypt and argon2 prefixes, and nothing else', () => {
    for (const prefix of ['$2a$', '$2b$', '$2y$'])
      assert.equal(hashFamily(`${prefix}12$abc`), 'bcrypt');
    for (const prefix of ['$argon2id$', '$argon2i$', '$argon2d$']) {
      assert.equal(hashFamily(`${prefix}v=19$m=1024,t=1,p=1$salt$hash`), 'argon2');
    }
    for (const other of ['', '!no-password', '$2x$12$abc', '$scrypt$', 'plain', '$argon2$']) {
      assert.equal(hashFamily(other), undefined, other);
    }
  });
});

describe('passwordHasher', () => {
  it('hashes with the configured algorithm and settings', async () => {
    assert.match(await passwordHasher(BCRYPT).hash('pw'), /^\$2b\$04\$.{53}$/);
    assert.match(
      await passwordHasher(ARGON2ID).hash('pw'),
      /^\$argon2id\$v=19\$m=1024,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/,
    );
  });

  it('verifies each stored hash by its own prefix, whatever the configured algorithm', async () => {
    const bcryptHash = await bcryptHasher(4).hash('correct horse');
    const argon2Hash = await argon2idHasher(ARGON2).hash('correct horse');
    for (const settings of [BCRYPT, ARGON2ID]) {
      const hasher = passwordHasher(settings);
      for (const hash of [bcryptHash, argon2Hash]) {
        assert.equal(
          await hasher.verify('correct horse', hash),
          true,
          `${settings.algorithm} ${hash}`,
        );
        assert.equal(await hasher.verify('correct horsf', hash), false);
      }
    }
  });

  it('verifies $2a$ and $2y$ bcrypt hashes, as other systems store them', async () => {
    const hash = await bcryptHasher(4).hash('correct horse');
    const hasher = passwordHasher(ARGON2ID);
    for (const prefix of ['$2a$', '$2y$']) {
      const other = hash.replace('$2b$', prefix);
      assert.equal(await hasher.verify('correct horse', other), true, prefix);
      assert.equal(await hasher.verify('correct horsf', other), false, prefix);
    }
  });

  it('verifies nothing against a value of no known format or a malformed one, without throwing', async () => {
    const hasher = passwordHasher(ARGON2ID);
    for (const stored of ['', '!no-password', 'pw', '$argon2id$v=19$m=1024$junk', '$2b$04$short']) {
      assert.equal(await hasher.verify('pw', stored), false, stored);
    }
  });

  it('never lets a bcrypt hash verify a password over 72 bytes, even when its first 72 match', async () => {
    const hash = await bcryptHasher(4).hash('p'.repeat(72));
    const hasher = passwordHasher(ARGON2ID);
    assert.equal(await hasher.verify('p'.repeat(72), hash), true);
    assert.equal(await hasher.verify(`${'p'.repeat(72)}extra`, hash), false);
  });

  it('verifies a 100-character CJK password with argon2id', async () => {
    const hasher = passwordHasher(ARGON2ID);
    const hash = await hasher.hash(CJK_100);
    assert.equal(await hasher.verify(CJK_100, hash), true);
    assert.equal(await hasher.verify(CJK_100.slice(0, 99), hash), false);
  });
});

describe('needsRehash', () => {
  const argon2Hash = (settings: typeof ARGON2) => argon2idHasher(settings).hash('pw');

  it('with bcrypt configured: argon2 hashes and lower costs, not equal or higher ones', async () => {
    const hasher = passwordHasher({ ...BCRYPT, bcryptRounds: 5 });
    assert.equal(hasher.needsRehash(await bcryptHasher(4).hash('pw')), true);
    assert.equal(hasher.needsRehash(await bcryptHasher(5).hash('pw')), false);
    assert.equal(hasher.needsRehash(await bcryptHasher(6).hash('pw')), false);
    assert.equal(hasher.needsRehash(await argon2Hash(ARGON2)), true);
  });

  it('with argon2id configured: bcrypt hashes and weaker m, t or p, not equal or stronger ones', async () => {
    const configured = { memoryKib: 2048, iterations: 2, parallelism: 2 };
    const hasher = passwordHasher({ ...ARGON2ID, argon2: configured });
    assert.equal(hasher.needsRehash(await bcryptHasher(4).hash('pw')), true);
    assert.equal(hasher.needsRehash(await argon2Hash(configured)), false);
    assert.equal(hasher.needsRehash(await argon2Hash({ ...configured, memoryKib: 1024 })), true);
    assert.equal(hasher.needsRehash(await argon2Hash({ ...configured, iterations: 1 })), true);
    assert.equal(hasher.needsRehash(await argon2Hash({ ...configured, parallelism: 1 })), true);
    assert.equal(hasher.needsRehash(await argon2Hash({ ...configured, memoryKib: 4096 })), false);
    assert.equal(hasher.needsRehash(await argon2Hash({ ...configured, iterations: 3 })), false);
  });

  it('replaces argon2i and argon2d hashes (brought from other systems) with argon2id', () => {
    const hasher = passwordHasher(ARGON2ID);
    const body = 'v=19$m=1024,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$' + 'A'.repeat(43);
    assert.equal(hasher.needsRehash(`$argon2i$${body}`), true);
    assert.equal(hasher.needsRehash(`$argon2d$${body}`), true);
    assert.equal(hasher.needsRehash(`$argon2id$${body}`), false);
  });
});

describe('password length limits', () => {
  const argon2id = { algorithm: 'argon2id', maxLength: 128 } as const;

  it('with bcrypt, refuses passwords over 72 bytes (a 100-character CJK one)', () => {
    assert.match(unusablePasswordReason(CJK_100) ?? '', /at most 72 bytes/);
    assert.match(passwordProblem(CJK_100, 8) ?? '', /at most 72 bytes/);
  });

  it('with argon2id, takes up to PASSWORD_MAX_LENGTH characters, whatever their bytes', () => {
    assert.equal(passwordProblem(CJK_100, 8, argon2id), null);
    assert.equal(passwordProblem('密'.repeat(128), 8, argon2id), null);
    assert.match(passwordProblem('密'.repeat(129), 8, argon2id) ?? '', /at most 128 characters/);
    assert.match(passwordProblem('a'.repeat(65), 8, { ...argon2id, maxLength: 64 }) ?? '', /64/);
    // Still refused, whatever the algorithm.
    assert.match(passwordProblem('abcdefgh\0', 8, argon2id) ?? '', /NUL/);
  });
});

describe('adaptiveLimit', () => {
  it('runs as many hashes as cores while the event loop is idle', () => {
    assert.equal(adaptiveLimit({ cores: 2, utilization: 0, current: 1 }), 2);
    assert.equal(adaptiveLimit({ cores: 4, utilization: IDLE_UTILIZATION, current: 3 }), 4);
  });

  it('leaves a core to waiting requests while the loop is busy, and always runs one', () => {
    assert.equal(adaptiveLimit({ cores: 2, utilization: BUSY_UTILIZATION, current: 2 }), 1);
    assert.equal(adaptiveLimit({ cores: 4, utilization: 1, current: 4 }), 3);
    assert.equal(adaptiveLimit({ cores: 1, utilization: 1, current: 1 }), 1);
  });

  it('keeps the current limit between the two thresholds, so it does not flap', () => {
    const between = (IDLE_UTILIZATION + BUSY_UTILIZATION) / 2;
    assert.equal(adaptiveLimit({ cores: 2, utilization: between, current: 1 }), 1);
    assert.equal(adaptiveLimit({ cores: 2, utilization: between, current: 2 }), 2);
  });

  it('stays within libuv’s four threads and at least one', () => {
    assert.equal(adaptiveLimit({ cores: 16, utilization: 0, current: 1 }), 4);
    assert.equal(adaptiveLimit({ cores: 16, utilization: 1, current: 4 }), 3);
    assert.equal(adaptiveLimit({ cores: 0, utilization: 0, current: 0 }), 1);
  });
});

/** A sampler the test drives by hand. */
class InjectedSampler implements LoadSampler {
  stopped = false;
  private onSample: (utilization: number) => void = () => undefined;
  start(onSample: (utilization: number) => void): void {
    this.onSample = onSample;
  }
  stop(): void {
    this.stopped = true;
  }
  report(utilization: number): void {
    this.onSample(utilization);
  }
}

/** A hasher whose operations finish only when the test says. */
class HeldHasher implements PasswordHasher {
  started = 0;
  private readonly releases: (() => void)[] = [];
  hash(): Promise<string> {
    this.started += 1;
    return new Promise((resolve) => this.releases.push(() => resolve('$2b$04$x')));
  }
  verify(): Promise<boolean> {
    return this.hash().then(() => true);
  }
  needsRehash(): boolean {
    return false;
  }
  releaseOne(): void {
    this.releases.shift()?.();
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('hashPool, adaptive', () => {
  it('follows the injected signal: every core idle, one fewer busy, waiting work started when room opens', async () => {
    const sampler = new InjectedSampler();
    const inner = new HeldHasher();
    const pool = hashPool(inner, { kind: 'adaptive', cores: 2, sampler });
    assert.equal(pool.limit, 2, 'idle at start: every core');
    const operations = Array.from({ length: 4 }, () => pool.hash('pw'));
    await settle();
    assert.equal(inner.started, 2);

    sampler.report(0.9);
    assert.equal(pool.limit, 1);
    inner.releaseOne();
    await settle();
    assert.equal(inner.started, 2, 'a busy loop: the freed slot is not taken');
    assert.equal(pool.running, 1);

    sampler.report(0.05);
    assert.equal(pool.limit, 2);
    await settle();
    assert.equal(inner.started, 3, 'idle again: a waiting hash starts at once');
    inner.releaseOne();
    inner.releaseOne();
    await settle();
    inner.releaseOne();
    await Promise.all(operations);
    assert.equal(inner.started, 4);
    assert.equal(pool.running, 0);
  });

  it('never stops running work when the limit falls', async () => {
    const sampler = new InjectedSampler();
    const inner = new HeldHasher();
    const pool = hashPool(inner, { kind: 'adaptive', cores: 4, sampler });
    const operations = Array.from({ length: 4 }, () => pool.verify('pw', 'hash'));
    await settle();
    sampler.report(1);
    assert.equal(pool.limit, 3);
    assert.equal(pool.running, 4);
    for (let i = 0; i < 4; i += 1) inner.releaseOne();
    assert.deepEqual(await Promise.all(operations), [true, true, true, true]);
  });

  it('stops its sampler on close; a fixed pool has none and ignores load', async () => {
    const sampler = new InjectedSampler();
    hashPool(new HeldHasher(), { kind: 'adaptive', cores: 2, sampler }).close();
    assert.equal(sampler.stopped, true);
    const inner = new HeldHasher();
    const fixed = hashPool(inner, { kind: 'fixed', limit: 1 });
    void fixed.hash('a');
    void fixed.hash('b');
    await settle();
    assert.equal(inner.started, 1);
    assert.equal(fixed.limit, 1);
    inner.releaseOne();
    await settle();
    inner.releaseOne();
    fixed.close();
  });
});
