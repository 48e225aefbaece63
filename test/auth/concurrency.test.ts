import assert from 'node:assert/strict';
import { test } from 'node:test';
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
