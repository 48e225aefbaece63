/**
 * Wires one Bienvenue service from its configuration: database (migrated), mailer, Auth service
 * and HTTP app. Closing the app closes the rest. Tests pass their own clock, mailer or hasher.
 */
import type { FastifyInstance } from 'fastify';
import { once } from 'node:events';
import { setTimeout } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { buildApp } from './app.js';
import { bcryptHasher, type PasswordHasher } from './auth/passwords.js';
import { pwnedPasswordsCheck } from './auth/breaches.js';
import { Auth, type ThrottlingSettings } from './auth/service.js';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { openDatabase } from './db/connection.js';
import { DB } from './db/db.js';
import { Throttles } from './db/throttles.js';
import { migrateToLatest } from './db/migrations.js';
import { logMailer, smtpMailer, type Mailer } from './mail/mailer.js';

export interface Service {
  readonly app: FastifyInstance;
  readonly auth: Auth;
}

export interface ServiceOverrides {
  readonly clock?: Clock;
  readonly mailer?: Mailer;
  readonly hasher?: PasswordHasher;
  readonly backgroundDelayMs?: () => number;
}

/** Opens and migrates the database and builds the app; `app.close()` releases everything. */
export async function createService(
  config: Config,
  logger: Logger,
  overrides: ServiceOverrides = {},
): Promise<Service> {
  const database = openDatabase(config.databaseUrl, {
    poolSize: config.databasePoolSize,
    onConnectionError: (error) => {
      logger.warn({ err: error }, 'a pooled database connection failed; it will be replaced');
    },
  });
  try {
    await migrateToLatest(database);
  } catch (error) {
    await database.kysely.destroy();
    throw error;
  }
  const clock = overrides.clock ?? systemClock;
  const mailer = overrides.mailer ?? createMailer(config, logger);
  const auth = new Auth({
    db: new DB(database.kysely, clock),
    throttles: new Throttles(database.kysely),
    hasher: overrides.hasher ?? bcryptHasher(config.bcryptRounds),
    clock,
    mailer,
    logger,
    settings: { ...config, throttling: throttlingSettings(config) },
    ...(config.hibp && { breachCheck: pwnedPasswordsCheck({ baseUrl: config.hibpUrl, logger }) }),
    ...(overrides.backgroundDelayMs && { backgroundDelayMs: overrides.backgroundDelayMs }),
  });
  const redis =
    config.rateLimit && config.redisUrl ? await connectRedis(config.redisUrl, logger) : undefined;
  const app = await buildApp({ auth, config, logger, ...(redis && { redis }) });
  app.addHook('onClose', async () => {
    await auth.drain();
    mailer.close();
    redis?.disconnect();
    await database.kysely.destroy();
  });
  return { app, auth };
}

function createMailer(config: Config, logger: Logger): Mailer {
  if (config.smtpUrl !== undefined) return smtpMailer(config.smtpUrl, config.mailFrom);
  logger.warn('SMTP_URL is not set: password reset emails will be written to the log, not sent');
  return logMailer(logger);
}

function throttlingSettings(config: Config): ThrottlingSettings | undefined {
  if (!config.rateLimit) return undefined;
  return {
    loginAfter: config.loginThrottleAfter,
    loginMaxDelaySeconds: config.loginThrottleMaxDelay,
    resetEmails: config.resetEmailLimit,
  };
}

/**
 * A Redis client for the shared rate limits, connected (or, after 2 s, still trying in the
 * background: the service starts all the same). Connection problems are logged, never thrown.
 */
async function connectRedis(url: string, logger: Logger): Promise<Redis> {
  const redis = new Redis(url, {
    connectTimeout: 2000,
    maxRetriesPerRequest: 1,
    // Fail commands at once while disconnected, rather than queueing them behind a reconnect.
    enableOfflineQueue: false,
  });
  let lastWarning = 0;
  redis.on('error', (error) => {
    // At most one line every 10 s while Redis is unreachable.
    if (Date.now() - lastWarning < 10_000) return;
    lastWarning = Date.now();
    logger.warn({ err: error }, 'Redis unavailable: per-client rate limits are not applied');
  });
  await Promise.race([once(redis, 'ready'), setTimeout(2000)]);
  return redis;
}
