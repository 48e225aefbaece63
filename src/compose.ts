/**
 * Wires one Bienvenue service from its configuration: database (migrated), metrics, audit log,
 * mailer, the Auth service, account administration and the HTTP app. Closing the app closes the
 * rest. Tests pass their own clock, mailer or hasher.
 */
import { once } from 'node:events';
import { setTimeout } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { buildApp } from './app.js';
import { AccountAdmin } from './auth/admin.js';
import { SessionManager } from './auth/sessions.js';
import { AuditLog } from './auth/audit.js';
import { pwnedPasswordsCheck } from './auth/breaches.js';
import {
  bcryptHasher,
  limitConcurrency,
  PasswordRules,
  type PasswordHasher,
} from './auth/passwords.js';
import { Auth, type ThrottlingSettings } from './auth/service.js';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { AuditEvents } from './db/audit-events.js';
import { openDatabase, type Database } from './db/connection.js';
import { DB } from './db/db.js';
import { Sessions } from './db/sessions.js';
import { migrateToLatest, pendingMigrations } from './db/migrations.js';
import { probeStorage } from './db/storage-health.js';
import { Throttles } from './db/throttles.js';
import { describeError } from './describe-error.js';
import type { ReadinessReport } from './http/operations.js';
import { MailHealth } from './mail/health.js';
import { logMailer, smtpMailer, type Mailer } from './mail/mailer.js';
import { createMetrics, timedHasher, type Metrics } from './metrics.js';

export interface Service {
  readonly app: FastifyInstance;
  readonly auth: Auth;
  readonly admin: AccountAdmin;
  readonly metrics: Metrics;
}

export interface ServiceOverrides {
  readonly clock?: Clock;
  readonly mailer?: Mailer;
  readonly hasher?: PasswordHasher;
  readonly backgroundDelayMs?: () => number;
  /** An already opened database, used instead of opening DATABASE_URL's (and closed likewise). */
  readonly database?: Database;
}

/** Opens and migrates the database and builds the app; `app.close()` releases everything. */
export async function createService(
  config: Config,
  logger: Logger,
  overrides: ServiceOverrides = {},
): Promise<Service> {
  const clock = overrides.clock ?? systemClock;
  const database =
    overrides.database ??
    openDatabase(config.databaseUrl, {
      poolSize: config.databasePoolSize,
      onConnectionError: (error) => {
        logger.warn({ err: error }, 'a pooled database connection failed; it will be replaced');
      },
      clock,
    });
  try {
    await migrateToLatest(database, { log: logger });
  } catch (error) {
    await database.kysely.destroy();
    throw error;
  }
  const metrics = createMetrics(database);
  const hasher = limitConcurrency(
    timedHasher(overrides.hasher ?? bcryptHasher(config.bcryptRounds), metrics),
    config.hashConcurrency,
  );
  const auditEvents = new AuditEvents(database.kysely);
  const audit = new AuditLog(auditEvents, {
    clock,
    logger,
    retentionDays: config.auditRetentionDays,
    onEvent: (type) => metrics.authEvents.inc({ type }),
  });
  const passwordRules = new PasswordRules(
    config.passwordMinLength,
    config.hibp ? pwnedPasswordsCheck({ baseUrl: config.hibpUrl, logger }) : undefined,
  );
  const db = new DB(database, clock);
  const sessions = new SessionManager(new Sessions(database), clock, config, audit);
  const throttles = new Throttles(database.kysely);
  const mailHealth = new MailHealth(clock, () => metrics.mailFailures.inc());
  const mailer = mailHealth.watch(overrides.mailer ?? createMailer(config, logger));
  const auth = new Auth({
    db,
    sessions,
    throttles,
    hasher,
    passwordRules,
    audit,
    clock,
    mailer,
    logger,
    settings: { ...config, throttling: throttlingSettings(config) },
    ...(overrides.backgroundDelayMs && { backgroundDelayMs: overrides.backgroundDelayMs }),
  });
  const admin = new AccountAdmin({
    db,
    throttles,
    auditEvents,
    audit,
    hasher,
    passwordRules,
    clock,
    sessions,
  });
  const redis =
    config.rateLimit && config.redisUrl ? await connectRedis(config.redisUrl, logger) : undefined;
  const app = await buildApp({
    auth,
    config,
    logger,
    metrics,
    readiness: () => readiness(database, mailHealth),
    ...(redis && { redis }),
  });
  app.addHook('onClose', async () => {
    await auth.drain();
    await audit.close();
    mailer.close();
    redis?.disconnect();
    await database.kysely.destroy();
  });
  return { app, auth, admin, metrics };
}

/**
 * Ready when the database answers, every migration is applied and writes are not failing with a
 * storage error (while they are, a probe write finds out whether space is back). Failing mail is
 * reported but leaves the service ready: logins and sessions do not need it.
 */
async function readiness(database: Database, mailHealth: MailHealth): Promise<ReadinessReport> {
  const mailFailure = mailHealth.failure;
  const mail = mailFailure && {
    mail: { status: 'failing' as const, ...mailFailure, since: isoTime(mailFailure.since) },
  };
  try {
    const pending = await pendingMigrations(database);
    if (pending.length > 0) {
      return { ready: false, reason: `migrations not applied: ${pending.join(', ')}`, ...mail };
    }
  } catch (error) {
    return { ready: false, reason: `database unreachable: ${describeError(error)}`, ...mail };
  }
  if (database.storage.failure !== undefined) await probeStorage(database);
  const storageFailure = database.storage.failure;
  if (storageFailure !== undefined) {
    const since = isoTime(storageFailure.since);
    return {
      ready: false,
      reason: `database writes failing since ${since}: ${storageFailure.reason}`,
      ...mail,
    };
  }
  return { ready: true, ...mail };
}

function isoTime(epochMilliseconds: number): string {
  return new Date(epochMilliseconds).toISOString();
}

function throttlingSettings(config: Config): ThrottlingSettings | undefined {
  if (!config.rateLimit) return undefined;
  return {
    loginAfter: config.loginThrottleAfter,
    loginMaxDelaySeconds: config.loginThrottleMaxDelay,
    resetEmails: config.resetEmailLimit,
  };
}

function createMailer(config: Config, logger: Logger): Mailer {
  if (config.smtpUrl !== undefined) return smtpMailer(config.smtpUrl, config.mailFrom);
  logger.warn('SMTP_URL is not set: password reset emails will be written to the log, not sent');
  return logMailer(logger);
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
  // Loaded only when REDIS_URL asks for it: a service without it starts faster.
  const { Redis } = await import('ioredis');
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
