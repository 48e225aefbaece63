/**
 * Opens one Bienvenue service from its configuration, without any HTTP: database (migrated), the
 * secret key and its box (auth/secret-key.ts), metrics, audit log, mailer, the Auth service and
 * account administration, with one `close` that drains background work, writes pending audit
 * events and releases the mailer and the database.
 * The CLI uses it as it is; `compose.ts` builds the HTTP app on top. Tests pass their own clock,
 * mailer or hasher.
 */
import type { Logger } from 'pino';
import { AccountTransfer } from './auth/account-transfer.js';
import { AccountAdmin } from './auth/admin.js';
import { AuditLog } from './auth/audit.js';
import { resolveSecretKey } from './auth/secret-key.js';
import { pwnedPasswordsCheck } from './auth/breaches.js';
import { hashPool } from './auth/hash-pool.js';
import { hashThreads } from './auth/hash-threads.js';
import { hashSettingsOf, passwordHasher } from './auth/password-hashing.js';
import { PasswordRules, type PasswordHasher } from './auth/passwords.js';
import { Auth, type ThrottlingSettings } from './auth/service.js';
import { createSecretBox, deriveKey, type SecretBox } from './auth/secret-box.js';
import { SessionManager } from './auth/sessions.js';
import type { TwoFactorKeys } from './auth/two-factor.js';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { AuditEvents } from './db/audit-events.js';
import { openDatabase, type Database } from './db/connection.js';
import { DB } from './db/db.js';
import { migrateToLatest, pendingMigrations } from './db/migrations.js';
import { Sessions } from './db/sessions.js';
import { probeStorage } from './db/storage-health.js';
import { Throttles } from './db/throttles.js';
import { TwoFactorStore } from './db/two-factor.js';
import { UserTransfer } from './db/user-transfer.js';
import { LoginChallenges } from './db/login-challenges.js';
import { EmailTokens } from './db/email-tokens.js';
import { PasskeyStore } from './db/passkeys.js';
import { describeError } from './describe-error.js';
import type { Readiness, ReadinessReport } from './http/operations.js';
import { MailHealth } from './mail/health.js';
import { logMailer, smtpMailer, type Mailer } from './mail/mailer.js';
import { createMetrics, timedHasher, type Metrics } from './metrics.js';

/** An open service: what front ends use, and how to close it. */
export interface OpenService {
  readonly auth: Auth;
  readonly admin: AccountAdmin;
  /** Accounts in and out in bulk (`bienvenue users import` and `export`). */
  readonly transfer: AccountTransfer;
  readonly metrics: Metrics;
  /**
   * Seals the secrets stored encrypted (TOTP seeds); undefined when the service has no key
   * (PostgreSQL without SECRET_KEY), and then two-factor enrolment is refused.
   */
  readonly secretBox: SecretBox | undefined;
  /** The key the box seals under, for the subkeys of other uses (`deriveKey`); never log it. */
  readonly secretKey: Buffer | undefined;
  /** Whether the service can serve (for `/readyz`). */
  readonly readiness: Readiness;
  /**
   * Finishes background work, writes pending audit events, then closes the mailer and the
   * database. Call it once, after the last use.
   */
  close(): Promise<void>;
}

export interface ServiceOverrides {
  readonly clock?: Clock;
  readonly mailer?: Mailer;
  readonly hasher?: PasswordHasher;
  readonly backgroundDelayMs?: () => number;
  /** An already opened database, used instead of opening DATABASE_URL's (and closed likewise). */
  readonly database?: Database;
  /** The service's 32-byte key instead of SECRET_KEY's or the key file's; null for none. */
  readonly secretKey?: Buffer | null;
}

/** Opens and migrates the database and wires the service on it. */
export async function openService(
  config: Config,
  logger: Logger,
  overrides: ServiceOverrides = {},
): Promise<OpenService> {
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
  let secretKey: Buffer | undefined;
  try {
    await migrateToLatest(database, { log: logger });
    secretKey =
      overrides.secretKey === null
        ? undefined
        : (overrides.secretKey ?? (await resolveSecretKey(config, logger)));
  } catch (error) {
    await database.kysely.destroy();
    throw error;
  }
  const metrics = createMetrics(database);
  const hasher = hashPool(
    timedHasher(overrides.hasher ?? passwordHasher(hashSettingsOf(config), hashThreads), metrics),
    config.adaptiveHashConcurrency
      ? { kind: 'adaptive', cores: config.hashConcurrency }
      : { kind: 'fixed', limit: config.hashConcurrency },
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
    { algorithm: config.passwordHash, maxLength: config.passwordMaxLength },
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
    twoFactorStore: new TwoFactorStore(database.kysely),
    twoFactorKeys: secretKey && twoFactorKeys(secretKey),
    loginChallenges: new LoginChallenges(database.kysely),
    emailTokens: new EmailTokens(database.kysely),
    passkeyStore: new PasskeyStore(database.kysely),
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
  return {
    auth,
    admin,
    transfer: new AccountTransfer(new UserTransfer(database.kysely), clock),
    metrics,
    secretBox: secretKey && createSecretBox(secretKey),
    secretKey,
    readiness: () => readiness(database, mailHealth),
    async close() {
      await auth.drain();
      await audit.close();
      mailer.close();
      hasher.close();
      await database.kysely.destroy();
    },
  };
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

/** What two-factor authentication derives from the service's key: one subkey per use. */
function twoFactorKeys(key: Buffer): TwoFactorKeys {
  return { box: createSecretBox(key), recoveryCodeKey: deriveKey(key, 'recovery-codes') };
}

function createMailer(config: Config, logger: Logger): Mailer {
  if (config.smtpUrl !== undefined) return smtpMailer(config.smtpUrl, config.mailFrom);
  logger.warn('SMTP_URL is not set: password reset emails will be written to the log, not sent');
  return logMailer(logger);
}
