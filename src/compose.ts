/**
 * Wires one Bienvenue service from its configuration: database (migrated), mailer, Auth service
 * and HTTP app. Closing the app closes the rest. Tests pass their own clock, mailer or hasher.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './app.js';
import { bcryptHasher, type PasswordHasher } from './auth/passwords.js';
import { Auth } from './auth/service.js';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { openDatabase } from './db/connection.js';
import { DB } from './db/db.js';
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
    hasher: overrides.hasher ?? bcryptHasher(config.bcryptRounds),
    clock,
    mailer,
    logger,
    settings: config,
    ...(overrides.backgroundDelayMs && { backgroundDelayMs: overrides.backgroundDelayMs }),
  });
  const app = await buildApp({ auth, config, logger });
  app.addHook('onClose', async () => {
    await auth.drain();
    mailer.close();
    await database.kysely.destroy();
  });
  return { app, auth };
}

function createMailer(config: Config, logger: Logger): Mailer {
  if (config.smtpUrl !== undefined) return smtpMailer(config.smtpUrl, config.mailFrom);
  logger.warn('SMTP_URL is not set: password reset emails will be written to the log, not sent');
  return logMailer(logger);
}
