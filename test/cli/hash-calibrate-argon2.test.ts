/**
 * `bienvenue hash calibrate --algorithm argon2id`, run as a real process, and its choice of
 * settings from given timings; `bienvenue config check` with the hashing settings.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { memorySizes, recommendArgon2 } from '../../src/cli/commands/hash-calibrate-argon2.js';
import { runCli } from './run-cli.js';

describe('hash calibrate --algorithm argon2id', () => {
  test('times each memory and iteration count and recommends settings within the target', async () => {
    const json = await runCli(
      [
        'hash',
        'calibrate',
        '--algorithm',
        'argon2id',
        '--min-memory-kib',
        '1024',
        '--max-memory-kib',
        '2048',
        '--max-iterations',
        '2',
        '--target-ms',
        '60000',
        '--json',
      ],
      {},
    );
    assert.equal(json.status, 0, json.stderr);
    const report = JSON.parse(json.stdout) as {
      algorithm: string;
      targetMs: number;
      timings: { memoryKib: number; iterations: number; medianMs: number }[];
      recommended: { memoryKib: number; iterations: number; parallelism: number } | null;
    };
    assert.equal(report.algorithm, 'argon2id');
    assert.deepEqual(
      report.timings.map((timing) => [timing.memoryKib, timing.iterations]),
      [
        [1024, 1],
        [1024, 2],
        [2048, 1],
        [2048, 2],
      ],
    );
    assert.ok(report.timings.every((timing) => timing.medianMs > 0));
    assert.deepEqual(report.recommended, { memoryKib: 2048, iterations: 2, parallelism: 1 });

    const text = await runCli(
      [
        'hash',
        'calibrate',
        '--algorithm',
        'argon2id',
        '--min-memory-kib',
        '1024',
        '--max-memory-kib',
        '1024',
        '--max-iterations',
        '1',
        '--target-ms',
        '60000',
      ],
      {},
    );
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /^MEMORY KIB\s+ITERATIONS\s+MEDIAN MS$/m);
    assert.match(text.stdout, /PASSWORD_HASH=argon2id ARGON2_MEMORY_KIB=1024 ARGON2_ITERATIONS=1/);
  });

  test('refuses an unknown algorithm and a reversed memory range (exit 2)', async () => {
    const unknown = await runCli(['hash', 'calibrate', '--algorithm', 'scrypt'], {});
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /--algorithm scrypt: expected bcrypt or argon2id/);
    const reversed = await runCli(
      [
        'hash',
        'calibrate',
        '--algorithm',
        'argon2id',
        '--min-memory-kib',
        '4096',
        '--max-memory-kib',
        '2048',
      ],
      {},
    );
    assert.equal(reversed.status, 2);
  });
});

describe('config check and the hashing settings', () => {
  test('prints the argon2id settings, and names each bad one (exit 2)', async () => {
    const good = await runCli(['config', 'check'], {
      DATABASE_URL: 'sqlite::memory:',
      PASSWORD_HASH: 'argon2id',
      ARGON2_MEMORY_KIB: '65536',
      PASSWORD_MAX_LENGTH: '256',
    });
    assert.equal(good.status, 0, good.stderr);
    assert.match(good.stdout, /^passwordHash\s+argon2id$/m);
    assert.match(good.stdout, /^argon2MemoryKib\s+65536$/m);
    assert.match(good.stdout, /^passwordMaxLength\s+256$/m);
    assert.match(good.stdout, /^adaptiveHashConcurrency\s+yes$/m);
    const bad = await runCli(['config', 'check'], {
      DATABASE_URL: 'sqlite::memory:',
      PASSWORD_HASH: 'md5',
      ARGON2_ITERATIONS: '0',
      PASSWORD_MAX_LENGTH: '32',
    });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /PASSWORD_HASH=md5: expected bcrypt or argon2id/);
    assert.match(bad.stderr, /ARGON2_ITERATIONS=0/);
    assert.match(bad.stderr, /PASSWORD_MAX_LENGTH=32: expected a whole number from 64 to 1024/);
  });
});

describe('recommendArgon2', () => {
  const timings = [
    { memoryKib: 19456, iterations: 1, medianMs: 20 },
    { memoryKib: 19456, iterations: 2, medianMs: 40 },
    { memoryKib: 38912, iterations: 1, medianMs: 41 },
    { memoryKib: 38912, iterations: 2, medianMs: 90 },
  ];

  test('takes the most work within the target, more memory on a tie', () => {
    assert.deepEqual(recommendArgon2(timings, 100), timings[3]);
    assert.deepEqual(recommendArgon2(timings, 45), timings[2], 'a tie goes to memory');
    assert.deepEqual(recommendArgon2(timings, 40), timings[1]);
    assert.equal(recommendArgon2(timings, 10), null);
  });

  test('memory sizes double from the smallest up to the largest, which is always tried', () => {
    assert.deepEqual(memorySizes(19456, 65536), [19456, 38912, 65536]);
    assert.deepEqual(memorySizes(1024, 1024), [1024]);
  });
});
