/**
 * Configuration: every setting comes from the environment, is parsed and validated once, and is
 * handed on as a frozen, typed object. A bad value stops the start with a message that names every
 * bad variable at once, not just the first one found.
 */

/** The validated settings of one Bienvenue process. Durations are in seconds. */
export interface Config {
  readonly port: number;
  readonly host: string;
  /** `sqlite:PATH`, `sqlite::memory:` or `postgres://…`; may hold a password: never print it. */
  readonly databaseUrl: string;
  /** PostgreSQL connections per process. */
  readonly databasePoolSize: number;
  readonly bcryptRounds: number;
  readonly passwordMinLength: number;
  readonly sessionTtl: number;
  readonly sessionIdleTtl: number;
  readonly resetTokenTtl: number;
  readonly resetTokenInResponse: boolean;
  /** Origin (and optional path prefix) users reach the service at; no trailing slash. */
  readonly publicUrl: string;
  readonly smtpUrl: string | undefined;
  readonly mailFrom: string;
  readonly logLevel: LogLevel;
}

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
  SESSION_TTL: 7 * 24 * 3600,
  SESSION_IDLE_TTL: 24 * 3600,
  RESET_TOKEN_TTL: 30 * 60,
  MAIL_FROM: 'Bienvenue <no-reply@localhost>',
  LOG_LEVEL: 'info',
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
  // bcrypt reads at most 72 bytes, so no minimum above that can ever be met.
  const passwordMinLength = integer('PASSWORD_MIN_LENGTH', DEFAULTS.PASSWORD_MIN_LENGTH, 1, 72);
  const year = 366 * 24 * 3600;
  const sessionTtl = integer('SESSION_TTL', DEFAULTS.SESSION_TTL, 1, year);
  const sessionIdleTtl = integer('SESSION_IDLE_TTL', DEFAULTS.SESSION_IDLE_TTL, 1, year);
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

  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    port,
    host,
    databaseUrl,
    databasePoolSize,
    bcryptRounds,
    passwordMinLength,
    sessionTtl,
    sessionIdleTtl,
    resetTokenTtl,
    resetTokenInResponse,
    publicUrl,
    smtpUrl,
    mailFrom,
    logLevel: logLevel ?? 'info',
  });
}

function parsePublicUrl(raw: string, problems: string[]): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    problems.push(`PUBLIC_URL=${raw}: expected an absolute http(s) URL`);
    return raw;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    problems.push(`PUBLIC_URL=${raw}: expected an http or https URL`);
  } else if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    problems.push(`PUBLIC_URL=${raw}: must not carry credentials, a query or a fragment`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** The settings with secrets masked, for printing. */
export function describeConfig(config: Config): Record<string, unknown> {
  return {
    ...config,
    databaseUrl: maskUrlPassword(config.databaseUrl),
    smtpUrl: config.smtpUrl === undefined ? undefined : maskUrlPassword(config.smtpUrl),
  };
}

/** `url` with the password of its user-info part replaced by `***`. */
function maskUrlPassword(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*):[^@/]*@/i, '$1:***@');
}
