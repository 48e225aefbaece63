/**
 * Configuration: every setting comes from the environment, is parsed and validated once, and is
 * handed on as a frozen, typed object. A bad value stops the start with a message that names every
 * bad variable at once, not just the first one found.
 */
import { availableParallelism } from 'node:os';
import { HASH_ALGORITHMS, type HashAlgorithm } from './auth/password-hashing.js';
import {
  maskUrlPassword,
  parseCookieDomain,
  parseEmailDomains,
  parsePublicUrl,
  parseSecretKey,
  parseTrustProxy,
  sessionCookieNameProblem,
} from './config-values.js';

/** The validated settings of one Bienvenue process. Durations are in seconds. */
export interface Config {
  readonly port: number;
  readonly host: string;
  /** `sqlite:PATH`, `sqlite::memory:` or `postgres://…`; may hold a password: never print it. */
  readonly databaseUrl: string;
  /** PostgreSQL connections per process. */
  readonly databasePoolSize: number;
  readonly bcryptRounds: number;
  /**
   * Password hashes run at once at most, the rest queue: HASH_CONCURRENCY, or when it is unset
   * every core (up to 4), adaptively (see {@link Config.adaptiveHashConcurrency}).
   */
  readonly hashConcurrency: number;
  /**
   * True when HASH_CONCURRENCY is unset: every core hashes while the event loop is idle, one core
   * is left to it while it is busy (auth/hash-pool.ts).
   */
  readonly adaptiveHashConcurrency: boolean;
  readonly passwordMinLength: number;
  /** The algorithm of new password hashes; stored hashes of either kind verify. */
  readonly passwordHash: HashAlgorithm;
  /** argon2id's memory per hash, in KiB. */
  readonly argon2MemoryKib: number;
  readonly argon2Iterations: number;
  readonly argon2Parallelism: number;
  /** Characters a password may have at most (with bcrypt, 72 bytes too). */
  readonly passwordMaxLength: number;
  readonly sessionTtl: number;
  readonly sessionIdleTtl: number;
  /** Most sessions one account holds at once; a login beyond ends the least recently seen. */
  readonly sessionsPerUser: number;
  readonly resetTokenTtl: number;
  readonly resetTokenInResponse: boolean;
  /** Origin (and optional path prefix) users reach the service at; no trailing slash. */
  readonly publicUrl: string;
  readonly smtpUrl: string | undefined;
  readonly mailFrom: string;
  readonly logLevel: LogLevel;
  /** Abuse protection as a whole (login throttling, per-client limits, reset email limit). */
  readonly rateLimit: boolean;
  /** Consecutive failed logins of one email before further attempts must wait. */
  readonly loginThrottleAfter: number;
  /** Longest wait, in seconds, the login backoff imposes. */
  readonly loginThrottleMaxDelay: number;
  /** Per client address, in `windowSeconds`. */
  readonly rateLimits: Readonly<Record<RateLimitedAction, RateLimit>>;
  /** Reset emails one account may receive per window. */
  readonly resetEmailLimit: RateLimit;
  /** Shared store for per-client limits; in memory per instance when unset. */
  readonly redisUrl: string | undefined;
  readonly redisKeyPrefix: string;
  /**
   * Proxies whose X-Forwarded-For is believed, comma-separated: IP addresses, CIDR ranges or
   * `loopback`, `linklocal`, `uniquelocal`; each entry checked; none when unset.
   */
  readonly trustProxy: string | undefined;
  /** Check new passwords against Have I Been Pwned (k-anonymity range API). */
  readonly hibp: boolean;
  readonly hibpUrl: string;
  /** Days audit events are kept. */
  readonly auditRetentionDays: number;
  /** Port of the separate Prometheus metrics listener; no listener when undefined. */
  readonly metricsPort: number | undefined;
  readonly metricsHost: string;
  /** Longest time, in seconds, a request may take to arrive in full (408 and closed past it). */
  readonly requestTimeout: number;
  /** Name of the session cookie; a `__Host-` name only with an https PUBLIC_URL. */
  readonly sessionCookieName: string;
  /**
   * The session cookie's Domain, so that every host under it receives the cookie (forward auth);
   * a host-only cookie when undefined. PUBLIC_URL's host is this domain or under it.
   */
  readonly cookieDomain: string | undefined;
  /** The YAML file of access rules for forward auth; every host needs a login when undefined. */
  readonly accessRulesFile: string | undefined;
  /** Whether anyone may sign up (`open`), or only invited accounts exist (`closed`). */
  readonly signup: 'open' | 'closed';
  /** The only email domains that may sign up (ASCII, lower case); any when undefined. */
  readonly signupEmailDomains: readonly string[] | undefined;
  /** How long an invitation's set-password link works. */
  readonly inviteTtl: number;
  /**
   * `SECRET_KEY`, 32 bytes: the key of the secrets stored encrypted (TOTP seeds). Never print
   * it ({@link describeConfig} masks it). When undefined, `auth/secret-key.ts` finds one.
   */
  readonly secretKey: Buffer | undefined;
  /**
   * Whether addresses are proven by a mailed link: `off` (no link is sent), `optional` (sent at
   * sign-up; unproven accounts log in all the same) or `required` (they may not log in).
   */
  readonly emailVerification: EmailVerificationMode;
  /** How long a verification or address-change link works. */
  readonly emailVerificationTtl: number;
}

export type EmailVerificationMode = 'off' | 'optional' | 'required';
const EMAIL_VERIFICATION_MODES: readonly EmailVerificationMode[] = ['off', 'optional', 'required'];

export interface RateLimit {
  readonly max: number;
  readonly windowSeconds: number;
}

export type RateLimitedAction =
  'signUp' | 'login' | 'resetRequest' | 'resetPassword' | 'account' | 'passkeyOptions';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
];

/** Thrown by {@link loadConfig}; `problems` has one line per bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

export type Environment = Readonly<Record<string, string | undefined>>;

/** Defaults, documented in the README; durations in seconds. */
export const DEFAULTS = {
  PORT: 5000,
  HOST: '0.0.0.0',
  DATABASE_URL: 'sqlite:./data/bienvenue.db',
  DATABASE_POOL_SIZE: 10,
  BCRYPT_ROUNDS: 12,
  PASSWORD_MIN_LENGTH: 8,
  PASSWORD_HASH: 'bcrypt',
  ARGON2_MEMORY_KIB: 19456,
  ARGON2_ITERATIONS: 2,
  ARGON2_PARALLELISM: 1,
  PASSWORD_MAX_LENGTH: 128,
  SESSION_TTL: 7 * 24 * 3600,
  SESSION_IDLE_TTL: 24 * 3600,
  SESSIONS_PER_USER: 10,
  RESET_TOKEN_TTL: 30 * 60,
  MAIL_FROM: 'Bienvenue <no-reply@localhost>',
  LOG_LEVEL: 'info',
  LOGIN_THROTTLE_AFTER: 5,
  LOGIN_THROTTLE_MAX_DELAY: 15 * 60,
  RATE_LIMIT_SIGNUP: '10/3600',
  RATE_LIMIT_LOGIN: '30/300',
  RATE_LIMIT_RESET_REQUEST: '5/900',
  RATE_LIMIT_RESET: '10/900',
  RATE_LIMIT_ACCOUNT: '10/900',
  RATE_LIMIT_PASSKEY_OPTIONS: '60/300',
  RESET_EMAIL_LIMIT: '3/3600',
  REDIS_KEY_PREFIX: 'bienvenue:',
  HIBP_URL: 'https://api.pwnedpasswords.com',
  AUDIT_RETENTION_DAYS: 90,
  METRICS_HOST: '127.0.0.1',
  REQUEST_TIMEOUT: 30,
  SESSION_COOKIE_NAME: 'session_id',
  SIGNUP: 'open',
  INVITE_TTL: 7 * 24 * 3600,
  EMAIL_VERIFICATION: 'optional',
  EMAIL_VERIFICATION_TTL: 24 * 3600,
} as const;

/** Parses and validates the environment; throws a {@link ConfigError} listing every problem. */
export function loadConfig(env: Environment): Config {
  const problems: string[] = [];
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      problems.push(`${name}=${raw}: expected a whole number from ${min} to ${max}`);
      return fallback;
    }
    return value;
  };
  const boolean = (name: string, fallback: boolean): boolean => {
    const raw = read(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (['true', '1', 'yes', 'on'].includes(raw)) return true;
    if (['false', '0', 'no', 'off'].includes(raw)) return false;
    problems.push(`${name}=${raw}: expected true or false`);
    return fallback;
  };

  const port = integer('PORT', DEFAULTS.PORT, 0, 65535);
  const host = read('HOST') ?? DEFAULTS.HOST;
  const databaseUrl = read('DATABASE_URL') ?? DEFAULTS.DATABASE_URL;
  if (!/^(sqlite:.|postgres(ql)?:\/\/.)/.test(databaseUrl)) {
    problems.push(
      `DATABASE_URL=${maskUrlPassword(databaseUrl)}: expected sqlite:PATH, sqlite::memory: or postgres://user:password@host:port/database`,
    );
  }
  const databasePoolSize = integer('DATABASE_POOL_SIZE', DEFAULTS.DATABASE_POOL_SIZE, 1, 1000);
  // bcrypt accepts costs 4 to 31; beyond 20 a single hash takes minutes.
  const bcryptRounds = integer('BCRYPT_ROUNDS', DEFAULTS.BCRYPT_ROUNDS, 4, 20);
  // Adaptive unless set; at most 4 at once, each on a thread of its own (auth/hash-threads.ts).
  const adaptiveHashConcurrency = read('HASH_CONCURRENCY') === undefined;
  const hashConcurrency = integer(
    'HASH_CONCURRENCY',
    Math.min(4, Math.max(1, availableParallelism())),
    1,
    4,
  );
  const passwordHashRaw = read('PASSWORD_HASH')?.toLowerCase() ?? DEFAULTS.PASSWORD_HASH;
  const passwordHash = HASH_ALGORITHMS.find((algorithm) => algorithm === passwordHashRaw);
  if (passwordHash === undefined) {
    problems.push(`PASSWORD_HASH=${passwordHashRaw}: expected ${HASH_ALGORITHMS.join(' or ')}`);
  }
  // argon2 needs at least 8 KiB per lane; below 1 MiB it protects little.
  const argon2MemoryKib = integer(
    'ARGON2_MEMORY_KIB',
    DEFAULTS.ARGON2_MEMORY_KIB,
    1024,
    4 * 1024 * 1024,
  );
  const argon2Iterations = integer('ARGON2_ITERATIONS', DEFAULTS.ARGON2_ITERATIONS, 1, 100);
  const argon2Parallelism = integer('ARGON2_PARALLELISM', DEFAULTS.ARGON2_PARALLELISM, 1, 16);
  // ASVS asks for at least 64 characters; the HTTP fields take 1024.
  const passwordMaxLength = integer('PASSWORD_MAX_LENGTH', DEFAULTS.PASSWORD_MAX_LENGTH, 64, 1024);
  // bcrypt reads at most 72 bytes, so no minimum above that can ever be met.
  const passwordMinLength = integer(
    'PASSWORD_MIN_LENGTH',
    DEFAULTS.PASSWORD_MIN_LENGTH,
    1,
    passwordHash === 'argon2id' ? passwordMaxLength : 72,
  );
  const year = 366 * 24 * 3600;
  const sessionTtl = integer('SESSION_TTL', DEFAULTS.SESSION_TTL, 1, year);
  const sessionIdleTtl = integer('SESSION_IDLE_TTL', DEFAULTS.SESSION_IDLE_TTL, 1, year);
  const sessionsPerUser = integer('SESSIONS_PER_USER', DEFAULTS.SESSIONS_PER_USER, 1, 1000);
  const resetTokenTtl = integer('RESET_TOKEN_TTL', DEFAULTS.RESET_TOKEN_TTL, 1, 7 * 24 * 3600);
  const resetTokenInResponse = boolean('RESET_TOKEN_IN_RESPONSE', false);

  const publicUrl = parsePublicUrl(read('PUBLIC_URL') ?? `http://localhost:${port}`, problems);
  const smtpUrl = read('SMTP_URL');
  if (smtpUrl !== undefined && !/^smtps?:\/\/[^/]/i.test(smtpUrl)) {
    problems.push('SMTP_URL: expected smtp://[user:pass@]host[:port] or smtps://…');
  }
  const mailFrom = read('MAIL_FROM') ?? DEFAULTS.MAIL_FROM;
  const logLevelRaw = read('LOG_LEVEL')?.toLowerCase() ?? DEFAULTS.LOG_LEVEL;
  const logLevel = LOG_LEVELS.find((level) => level === logLevelRaw);
  if (logLevel === undefined) {
    problems.push(`LOG_LEVEL=${logLevelRaw}: expected one of ${LOG_LEVELS.join(', ')}`);
  }

  const rate = (name: keyof typeof DEFAULTS & `${string}LIMIT${string}`): RateLimit => {
    const raw = read(name) ?? DEFAULTS[name];
    const match = /^(\d{1,9})\/(\d{1,9})$/.exec(raw);
    const [max, windowSeconds] = [Number(match?.[1]), Number(match?.[2])];
    if (match === null || max < 1 || windowSeconds < 1) {
      problems.push(`${name}=${raw}: expected COUNT/SECONDS, like 10/60`);
      return { max: 1, windowSeconds: 1 };
    }
    return { max, windowSeconds };
  };
  const rateLimit = boolean('RATE_LIMIT', true);
  const loginThrottleAfter = integer(
    'LOGIN_THROTTLE_AFTER',
    DEFAULTS.LOGIN_THROTTLE_AFTER,
    1,
    1000,
  );
  const loginThrottleMaxDelay = integer(
    'LOGIN_THROTTLE_MAX_DELAY',
    DEFAULTS.LOGIN_THROTTLE_MAX_DELAY,
    1,
    24 * 3600,
  );
  const rateLimits = {
    signUp: rate('RATE_LIMIT_SIGNUP'),
    login: rate('RATE_LIMIT_LOGIN'),
    resetRequest: rate('RATE_LIMIT_RESET_REQUEST'),
    resetPassword: rate('RATE_LIMIT_RESET'),
    account: rate('RATE_LIMIT_ACCOUNT'),
    passkeyOptions: rate('RATE_LIMIT_PASSKEY_OPTIONS'),
  };
  const resetEmailLimit = rate('RESET_EMAIL_LIMIT');
  const redisUrl = read('REDIS_URL');
  if (redisUrl !== undefined && !/^rediss?:\/\/./.test(redisUrl)) {
    problems.push('REDIS_URL: expected redis://[user:password@]host[:port][/db] or rediss://…');
  }
  const redisKeyPrefix = read('REDIS_KEY_PREFIX') ?? DEFAULTS.REDIS_KEY_PREFIX;
  const trustProxy = parseTrustProxy(read('TRUST_PROXY'), problems);
  const hibp = boolean('HIBP', false);
  const hibpUrl = (read('HIBP_URL') ?? DEFAULTS.HIBP_URL).replace(/\/+$/, '');
  if (!/^https?:\/\/./.test(hibpUrl)) problems.push(`HIBP_URL=${hibpUrl}: expected an http(s) URL`);

  const auditRetentionDays = integer(
    'AUDIT_RETENTION_DAYS',
    DEFAULTS.AUDIT_RETENTION_DAYS,
    1,
    100 * 366,
  );
  const metricsPort =
    read('METRICS_PORT') === undefined ? undefined : integer('METRICS_PORT', 0, 1, 65535);
  const metricsHost = read('METRICS_HOST') ?? DEFAULTS.METRICS_HOST;
  // No request may hold a connection longer than this, whatever its client does.
  const requestTimeout = integer('REQUEST_TIMEOUT', DEFAULTS.REQUEST_TIMEOUT, 1, 30);
  const cookieDomain = parseCookieDomain(read('COOKIE_DOMAIN'), publicUrl, problems);
  const sessionCookieName = read('SESSION_COOKIE_NAME') ?? DEFAULTS.SESSION_COOKIE_NAME;
  const cookieNameProblem = sessionCookieNameProblem(sessionCookieName, publicUrl, cookieDomain);
  if (cookieNameProblem !== undefined) {
    problems.push(`SESSION_COOKIE_NAME=${sessionCookieName}: ${cookieNameProblem}`);
  }

  const accessRulesFile = read('ACCESS_RULES_FILE');
  const signupRaw = read('SIGNUP')?.toLowerCase() ?? DEFAULTS.SIGNUP;
  if (signupRaw !== 'open' && signupRaw !== 'closed') {
    problems.push(`SIGNUP=${signupRaw}: expected open or closed`);
  }
  const signup = signupRaw === 'closed' ? 'closed' : 'open';
  const signupEmailDomains = parseEmailDomains(
    'SIGNUP_EMAIL_DOMAINS',
    read('SIGNUP_EMAIL_DOMAINS'),
    problems,
  );
  const inviteTtl = integer('INVITE_TTL', DEFAULTS.INVITE_TTL, 60, 90 * 24 * 3600);
  const secretKey = parseSecretKey(read('SECRET_KEY'), problems);
  const emailVerificationRaw =
    read('EMAIL_VERIFICATION')?.toLowerCase() ?? DEFAULTS.EMAIL_VERIFICATION;
  const emailVerification = EMAIL_VERIFICATION_MODES.find((mode) => mode === emailVerificationRaw);
  if (emailVerification === undefined) {
    problems.push(
      `EMAIL_VERIFICATION=${emailVerificationRaw}: expected ${EMAIL_VERIFICATION_MODES.join(', ')}`,
    );
  }
  const emailVerificationTtl = integer(
    'EMAIL_VERIFICATION_TTL',
    DEFAULTS.EMAIL_VERIFICATION_TTL,
    60,
    30 * 24 * 3600,
  );

  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    port,
    host,
    databaseUrl,
    databasePoolSize,
    bcryptRounds,
    hashConcurrency,
    adaptiveHashConcurrency,
    passwordMinLength,
    passwordHash: passwordHash ?? 'bcrypt',
    argon2MemoryKib,
    argon2Iterations,
    argon2Parallelism,
    passwordMaxLength,
    sessionTtl,
    sessionIdleTtl,
    sessionsPerUser,
    resetTokenTtl,
    resetTokenInResponse,
    publicUrl,
    smtpUrl,
    mailFrom,
    logLevel: logLevel ?? 'info',
    rateLimit,
    loginThrottleAfter,
    loginThrottleMaxDelay,
    rateLimits: Object.freeze(rateLimits),
    resetEmailLimit,
    redisUrl,
    redisKeyPrefix,
    trustProxy,
    hibp,
    hibpUrl,
    auditRetentionDays,
    metricsPort,
    metricsHost,
    requestTimeout,
    sessionCookieName,
    cookieDomain,
    accessRulesFile,
    signup,
    signupEmailDomains,
    inviteTtl,
    secretKey,
    emailVerification: emailVerification ?? DEFAULTS.EMAIL_VERIFICATION,
    emailVerificationTtl,
  });
}

/** The settings with secrets masked, for printing. */
export function describeConfig(config: Config): Record<string, unknown> {
  return {
    ...config,
    databaseUrl: maskUrlPassword(config.databaseUrl),
    smtpUrl: config.smtpUrl === undefined ? undefined : maskUrlPassword(config.smtpUrl),
    redisUrl: config.redisUrl === undefined ? undefined : maskUrlPassword(config.redisUrl),
    secretKey: config.secretKey === undefined ? undefined : '***',
  };
}
