/**
 * Builds the HTTP app on an open service (service.ts), with the Redis client of the shared rate
 * limits when REDIS_URL asks for one, and the access rules of ACCESS_RULES_FILE (read before
 * anything is opened, so that a bad file stops the start at once). Closing the app closes the
 * service too.
 */
import { once } from 'node:events';
import { setTimeout } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { createRequire } from 'node:module';
import type * as ioredisModule from 'ioredis';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { buildApp } from './app.js';
import { signUpWarnings, ReloadableAccessRules } from './auth/access-rules-reload.js';
import type { AccountAdmin } from './auth/admin.js';
import type { Auth } from './auth/service.js';
import type { SecretBox } from './auth/secret-box.js';
import { warnOfMissingSecretKey } from './auth/secret-key.js';
import type { Config } from './config.js';
import type { Metrics } from './metrics.js';
import { openService, type ServiceOverrides } from './service.js';

export type { ServiceOverrides } from './service.js';

const require = createRequire(import.meta.url);

export interface Service {
  readonly app: FastifyInstance;
  readonly auth: Auth;
  readonly admin: AccountAdmin;
  readonly metrics: Metrics;
  /** Seals stored secrets; undefined without a key (see service.ts). */
  readonly secretBox: SecretBox | undefined;
  /** The access rules in force for forward auth; `reload()` reads the file again. */
  readonly accessRules: ReloadableAccessRules;
}

/** Opens the service and builds the app on it; `app.close()` releases everything. */
export async function createService(
  config: Config,
  logger: Logger,
  overrides: ServiceOverrides = {},
): Promise<Service> {
  const accessRules = ReloadableAccessRules.open(config.accessRulesFile);
  for (const warning of signUpWarnings(config, accessRules.current())) {
    logger.warn({ hosts: warning.hosts }, warning.message);
  }
  const service = await openService(config, logger, overrides);
  if (service.secretBox === undefined) warnOfMissingSecretKey(logger);
  const { auth, admin, metrics } = service;
  let redis: Redis | undefined;
  let app: FastifyInstance;
  try {
    redis =
      config.rateLimit && config.redisUrl ? await connectRedis(config.redisUrl, logger) : undefined;
    app = await buildApp({
      auth,
      config,
      logger,
      metrics,
      readiness: service.readiness,
      accessRules,
      ...(redis && { redis }),
    });
  } catch (error) {
    redis?.disconnect();
    await service.close();
    throw error;
  }
  app.addHook('onClose', async () => {
    await service.close();
    redis?.disconnect();
  });
  return { app, auth, admin, metrics, secretBox: service.secretBox, accessRules };
}

/** Past this, a Redis command fails, and the rate limits stand aside for that request. */
const REDIS_COMMAND_TIMEOUT_MS = 500;
/** Redis trouble is logged at most this often, not once per request. */
const REDIS_WARNING_INTERVAL_MS = 60_000;

/**
 * A Redis client for the shared rate limits, connected (or, after 2 s, still trying in the
 * background: the service starts all the same). Every command has a deadline, so a Redis that
 * stops answering delays a request by {@link REDIS_COMMAND_TIMEOUT_MS} at most. Connection
 * problems and failed commands are logged, at most once a minute, never thrown.
 */
async function connectRedis(url: string, logger: Logger): Promise<Redis> {
  // Loaded only when REDIS_URL asks for it: a service without it starts faster. Required, not
  // imported: see auth/passkeys/index.ts.
  const { Redis } = require('ioredis') as typeof ioredisModule;
  let lastWarning = -Infinity;
  const warn = (error: unknown) => {
    if (Date.now() - lastWarning < REDIS_WARNING_INTERVAL_MS) return;
    lastWarning = Date.now();
    logger.warn({ err: error }, 'Redis unavailable: per-client rate limits are not applied');
  };
  // The rate limiter skips a failed command silently; this sees each command that got no answer
  // (a time-out, a lost connection), without changing what the caller gets. An error Redis
  // answered with is not an outage (ioredis sends commands older servers refuse, and moves on).
  class WatchedRedis extends Redis {
    override sendCommand(...args: Parameters<Redis['sendCommand']>): unknown {
      args[0].promise.catch((error: unknown) => {
        if (!(error instanceof Error && error.name === 'ReplyError')) warn(error);
      });
      return super.sendCommand(...args);
    }
  }
  const redis = new WatchedRedis(url, {
    connectTimeout: 2000,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
    // Fail commands at once while disconnected, rather than queueing them behind a reconnect.
    enableOfflineQueue: false,
  });
  redis.on('error', warn);
  await Promise.race([once(redis, 'ready'), setTimeout(2000)]);
  return redis;
}
