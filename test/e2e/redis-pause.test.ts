/**
 * A Redis that stops answering, with the real server process: a redis-server of this test's own
 * is frozen (SIGSTOP), its connections left open, and logins, sign-ups and resets must still be
 * answered, the shared rate limits standing aside, with one warning in the log.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { formBody, startIsolatedServer } from '../support/process.js';
import { startPrivateRedis, type PrivateRedis } from '../support/redis.js';

const WARNING = 'Redis unavailable: per-client rate limits are not applied';

test('with Redis paused, logins, sign-ups and resets answer within 2 s, with one warning', async (t) => {
  let redis: PrivateRedis;
  try {
    redis = await startPrivateRedis();
  } catch (error) {
    assert.notEqual(process.env.CI, 'true', `redis-server is required under CI: ${String(error)}`);
    t.skip(`no redis-server to run (${String(error)})`);
    return;
  }
  const prefix = 'bienvenue-pause:';
  const server = await startIsolatedServer({
    BCRYPT_ROUNDS: '4',
    RATE_LIMIT: 'on',
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: prefix,
  });
  /** Sends a form and returns its status, how long the answer took, and its request id. */
  const send = async (method: string, path: string, fields: Record<string, string>) => {
    const started = performance.now();
    const response = await fetch(`${server.url}${path}`, {
      method,
      body: formBody(fields),
      // Without a deadline on Redis commands the answer never comes; fail rather than hang.
      signal: AbortSignal.timeout(10_000),
    });
    await response.arrayBuffer();
    const milliseconds = performance.now() - started;
    return {
      status: response.status,
      milliseconds,
      requestId: response.headers.get('x-request-id'),
    };
  };

  const password = 'paused redis pass';
  assert.equal((await send('POST', '/users', { email: 'ivy@example.com', password })).status, 200);
  // The limits do live in this Redis while it answers.
  const inspector = new Redis(redis.url);
  try {
    assert.ok((await inspector.keys(`${prefix}*`)).length > 0);
  } finally {
    inspector.disconnect();
  }

  redis.pause();
  const requests: [string, string, Record<string, string>, number][] = [
    ['POST', '/sessions', { email: 'ivy@example.com', password }, 200],
    ['POST', '/users', { email: 'jay@example.com', password }, 200],
    ['POST', '/reset_password', { email: 'ivy@example.com' }, 200],
    ['POST', '/sessions', { email: 'ivy@example.com', password: 'wrong' }, 401],
    ['POST', '/sessions', { email: 'jay@example.com', password }, 200],
    ['POST', '/reset_password', { email: 'jay@example.com' }, 200],
  ];
  let lastRequestId: string | null = null;
  for (const [method, path, fields, expected] of requests) {
    const answer = await send(method, path, fields);
    assert.equal(answer.status, expected, `${method} ${path}`);
    assert.ok(answer.milliseconds < 2000, `${method} ${path} took ${answer.milliseconds} ms`);
    lastRequestId = answer.requestId;
  }
  // Log lines are written in order: once the last request's is in, so is every warning before it.
  const deadline = Date.now() + 5000;
  const lastLogged = () =>
    server
      .output()
      .split('\n')
      .some((line) => line.includes(`"${lastRequestId}"`) && line.includes('request completed'));
  while (!lastLogged()) {
    assert.ok(Date.now() < deadline, `no log of the last request:\n${server.output()}`);
    await new Promise((done) => setTimeout(done, 50));
  }
  const warnings = server
    .output()
    .split('\n')
    .filter((line) => line.includes(WARNING));
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0] ?? '', /Command timed out/);

  redis.resume();
  assert.equal(
    (await send('POST', '/sessions', { email: 'jay@example.com', password })).status,
    200,
  );
});
