import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BusyError, RequestAbandonedError } from '../../src/auth/errors.js';
import { limitConcurrency, type PasswordHasher } from '../../src/auth/passwords.js';

test('limitConcurrency runs at most `limit` operations at once, and all of them, in order', async () => {
  let running = 0;
  let most = 0;
  const started: string[] = [];
  const slow: PasswordHasher = {
    async hash(password) {
      started.push(password);
      running += 1;
      most = Math.max(most, running);
      await new Promise((done) => setTimeout(done, 5));
      running -= 1;
      return `hashed ${password}`;
    },
    verify: () => Promise.resolve(true),
    needsRehash: () => false,
  };
  const limited = limitConcurrency(slow, 2);
  const passwords = Array.from({ length: 10 }, (_, i) => `p${i}`);
  const hashes = await Promise.all(passwords.map((password) => limited.hash(password)));
  assert.equal(most, 2);
  assert.deepEqual(started, passwords);
  assert.deepEqual(
    hashes,
    passwords.map((password) => `hashed ${password}`),
  );
});

test('a failing operation frees its slot', async () => {
  const failing: PasswordHasher = {
    hash: () => Promise.reject(new Error('boom')),
    verify: () => Promise.resolve(false),
    needsRehash: () => false,
  };
  const limited = limitConcurrency(failing, 1);
  await assert.rejects(limited.hash('a'), /boom/);
  await assert.rejects(limited.hash('b'), /boom/);
  assert.equal(await limited.verify('c', 'h'), false);
});

/** A hasher whose operations finish only when the test says, recording which ones started. */
function heldHasher() {
  const started: string[] = [];
  const finishers: (() => void)[] = [];
  const hasher: PasswordHasher = {
    hash(password) {
      started.push(password);
      return new Promise((done) => finishers.push(() => done(`hashed ${password}`)));
    },
    verify: () => Promise.resolve(true),
    needsRehash: () => false,
  };
  /** Finishes the oldest running operation, once there is one. */
  const finishNext = async () => {
    while (finishers.length === 0) await new Promise((done) => setImmediate(done));
    finishers.shift()?.();
  };
  return { hasher, started, finishNext };
}

test('an aborted waiting operation leaves the queue and never runs', async () => {
  const { hasher, started, finishNext } = heldHasher();
  const limited = limitConcurrency(hasher, 1, { maxWaiting: 2 });
  const first = limited.hash('first');
  const gone = new AbortController();
  const abandoned = limited.hash('abandoned', { signal: gone.signal });
  const last = limited.hash('last');
  gone.abort();
  await assert.rejects(abandoned, RequestAbandonedError);
  await finishNext();
  assert.equal(await first, 'hashed first');
  await finishNext();
  assert.equal(await last, 'hashed last');
  assert.deepEqual(started, ['first', 'last']);
});

test('an operation whose client is already gone never runs, even with a slot free', async () => {
  const { hasher, started } = heldHasher();
  const limited = limitConcurrency(hasher, 1);
  await assert.rejects(
    limited.hash('late', { signal: AbortSignal.abort() }),
    RequestAbandonedError,
  );
  assert.deepEqual(started, []);
});

test('a full queue refuses at once with BusyError; a freed place takes one again', async () => {
  const { hasher, started, finishNext } = heldHasher();
  const limited = limitConcurrency(hasher, 1, { maxWaiting: 2 });
  const accepted = ['running', 'waiting 1', 'waiting 2'].map((password) => limited.hash(password));
  await assert.rejects(limited.hash('one too many'), (error: unknown) => {
    assert.ok(error instanceof BusyError);
    assert.ok(error.retryAfterSeconds >= 1);
    return true;
  });
  await finishNext();
  await accepted[0];
  const again = limited.hash('again');
  for (let i = 0; i < 3; i += 1) await finishNext();
  assert.deepEqual(await Promise.all([...accepted.slice(1), again]), [
    'hashed waiting 1',
    'hashed waiting 2',
    'hashed again',
  ]);
  assert.deepEqual(started, ['running', 'waiting 1', 'waiting 2', 'again']);
});
