/**
 * The Redis server for tests of shared rate limits (TEST_REDIS_URL, by default the local one).
 * Where it cannot be reached, those tests are skipped with a notice, except under CI=true, where
 * they fail instead. Tests that must stop a Redis start one of their own (`startPrivateRedis`),
 * never touching the shared one.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after } from 'node:test';
import { Redis } from 'ioredis';
import { temporaryDirectory } from './files.js';
import { freePort } from './ports.js';

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Why Redis cannot be used, or undefined when it answers. */
export async function redisProblem(url = TEST_REDIS_URL): Promise<string | undefined> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    client.disconnect();
  }
}

/** A key prefix no other test run uses. */
export function freshRedisPrefix(): string {
  return `bienvenue-test:${randomUUID()}:`;
}

/** A redis-server process of one test file's own. */
export interface PrivateRedis {
  readonly url: string;
  /** Freezes the process (SIGSTOP): connections stay open, and nothing is answered. */
  pause(): void;
  /** Lets a paused process run again (SIGCONT). */
  resume(): void;
}

/**
 * Starts `redis-server` (from PATH) on a free loopback port, without persistence, and waits until
 * it answers; it is resumed and killed when the calling test file ends. Throws when it cannot run.
 */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { cwd: temporaryDirectory(), stdio: 'ignore' },
  );
  let spawnError: Error | undefined;
  child.once('error', (error) => (spawnError = error));
  after(() => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  });
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const problem = await redisProblem(url);
    if (problem === undefined) break;
    if (spawnError !== undefined)
      throw new Error(`redis-server did not start: ${spawnError.message}`);
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(problem);
    await new Promise((done) => setTimeout(done, 50));
  }
  return {
    url,
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
  };
}
