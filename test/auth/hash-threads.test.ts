/**
 * The hashing threads (hash-threads.ts): what they make verifies with the libraries' own thread
 * pool and the reverse, a failing operation fails alone, the threads run at a lower priority than
 * the event loop, and they hold the process open only while they work. The last two run in a
 * process of their own, which has hashed nothing before.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { HASH_THREAD_NICE, hashThreads } from '../../src/auth/hash-threads.js';
import { argon2idHasher, bcryptHasher, threadPoolEngine } from '../../src/auth/password-hashing.js';

const ARGON2 = { memoryKib: 1024, iterations: 1, parallelism: 1 };
const THREADS = pathToFileURL(
  join(import.meta.dirname, '..', '..', 'src', 'auth', 'hash-threads.js'),
).href;

describe('hashing threads', () => {
  it('make hashes that the thread pool verifies, and verify the ones it makes', async () => {
    for (const [made, checked] of [
      [hashThreads, threadPoolEngine],
      [threadPoolEngine, hashThreads],
    ] as const) {
      const pairs = [
        [bcryptHasher(4, made), bcryptHasher(4, checked)],
        [argon2idHasher(ARGON2, made), argon2idHasher(ARGON2, checked)],
      ] as const;
      for (const [maker, checker] of pairs) {
        const hash = await maker.hash('correct horse');
        assert.equal(await checker.verify('correct horse', hash), true);
        assert.equal(await checker.verify('wrong horse', hash), false);
      }
    }
  });

  it('run operations at once, and one that throws fails alone', async () => {
    const hashes = await Promise.all(
      ['one', 'two', 'three', 'four'].map((password) => hashThreads.bcryptHash(password, 4)),
    );
    assert.equal(new Set(hashes).size, 4);
    await assert.rejects(hashThreads.argon2Verify('$argon2id$not-a-hash', 'pw'));
    assert.equal(await hashThreads.bcryptCompare('two', hashes[1] ?? ''), true);
  });

  it('hash at a lower priority than the event loop, and let the process end when idle', () => {
    // Each thread's nice value is field 19 of its /proc stat line (16 after the command's name).
    const script = `
      const { readdirSync, readFileSync } = await import('node:fs');
      const nices = () => readdirSync('/proc/self/task').map((tid) => {
        const stat = readFileSync('/proc/self/task/' + tid + '/stat', 'utf8');
        return { tid: Number(tid), nice: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]) };
      });
      const before = nices().filter((task) => task.nice !== 0).length;
      const { hashThreads } = await import(${JSON.stringify(THREADS)});
      const hash = await hashThreads.bcryptHash('pw', 4);
      const after = nices();
      process.stdout.write(JSON.stringify({
        hash,
        before,
        lowered: after.filter((task) => task.nice === ${HASH_THREAD_NICE}).length,
        loop: after.find((task) => task.tid === process.pid).nice,
      }));
    `;
    const printed = JSON.parse(
      execFileSync(process.execPath, ['--input-type=module', '-e', script], {
        encoding: 'utf8',
        timeout: 30_000,
      }),
    ) as { hash: string; before: number; lowered: number; loop: number };
    // It printed (the thread kept the process open while it hashed) and then ended (no timeout).
    assert.match(printed.hash, /^\$2b\$04\$/);
    if (process.platform !== 'linux') return;
    assert.deepEqual(
      { before: printed.before, lowered: printed.lowered, loop: printed.loop },
      { before: 0, lowered: 1, loop: 0 },
    );
  });
});
