/**
 * The Redis server for tests of shared rate limits (TEST_REDIS_URL, by default the local one).
 * Where it cannot be reached, those tests are skipped with a notice, except under CI=true, where
 * they fail instead.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Why Redis cannot be used, or undefined when it answers. */
export async function redisProblem(): Promise<string | undefined> {
  const client = new Redis(TEST_REDIS_URL, {
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
