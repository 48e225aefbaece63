import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import Fastify from 'fastify';
import {
  ConfigError,
  DEFAULTS,
  describeConfig,
  loadConfig,
  type Environment,
} from '../src/config.js';

/** The ConfigError that loading `env` throws; fails the test when loading succeeds. */
function configError(env: Environment): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail(`expected loadConfig(${JSON.stringify(env)}) to throw a ConfigError`);
}

/** The problem lines that name `variable`. */
function problemsAbout(error: ConfigError, variable: string): string[] {
  return error.problems.filter((line) => line.startsWith(variable));
}

describe('loadConfig with an empty environment', () => {
  it('uses the documented default for every setting', () => {
    const config = loadConfig({});
    assert.deepEqual(
      { ...config },
      {
        port: 5000,
        host: '0.0.0.0',
        databaseUrl: 'sqlite:./data/bienvenue.db',
        databasePoolSize: 10,
        bcryptRounds: 12,
        hashConcurrency: Math.min(4, Math.max(1, availableParallelism())),
        adaptiveHashConcurrency: true,
        passwordMinLength: 8,
        passwordHash: 'bcrypt',
        argon2MemoryKib: 19456,
        argon2Iterations: 2,
        argon2Parallelism: 1,
        passwordMaxLength: 128,
        sessionTtl: 7 * 24 * 3600,
        sessionIdleTtl: 24 * 3600,
        sessionsPerUser: 10,
        resetTokenTtl: 1800,
        resetTokenInResponse: false,
        publicUrl: 'http://localhost:5000',
        smtpUrl: undefined,
        mailFrom: 'Bienvenue <no-reply@localhost>',
        logLevel: 'info',
        rateLimit: true,
        loginThrottleAfter: 5,
        loginThrottleMaxDelay: 900,
        rateLimits: {
          signUp: { max: 10, windowSeconds: 3600 },
          login: { max: 30, windowSeconds: 300 },
          resetRequest: { max: 5, windowSeconds: 900 },
          resetPassword: { max: 10, windowSeconds: 900 },
          account: { max: 10, windowSeconds: 900 },
          passkeyOptions: { max: 60, windowSeconds: 300 },
        },
        resetEmailLimit: { max: 3, windowSeconds: 3600 },
        redisUrl: undefined,
        redisKeyPrefix: 'bienvenue:',
        trustProxy: undefined,
        hibp: false,
        hibpUrl: 'https://api.pwnedpasswords.com',
        auditRetentionDays: 90,
        metricsPort: undefined,
        metricsHost: '127.0.0.1',
        requestTimeout: 30,
        sessionCookieName: 'session_id',
        cookieDomain: undefined,
        accessRulesFile: undefined,
        signup: 'open',
        signupEmailDomains: undefined,
        inviteTtl: 7 * 24 * 3600,
        secretKey: undefined,
        emailVerification: 'optional',
        emailVerificationTtl: 86400,
      },
    );
  });

  it('exports the same defaults it applies', () => {
    assert.equal(DEFAULTS.PORT, 5000);
    assert.equal(DEFAULTS.HOST, '0.0.0.0');
    assert.equal(DEFAULTS.DATABASE_URL, 'sqlite:./data/bienvenue.db');
    assert.equal(DEFAULTS.BCRYPT_ROUNDS, 12);
    assert.equal(DEFAULTS.PASSWORD_MIN_LENGTH, 8);
    assert.equal(DEFAULTS.RESET_TOKEN_TTL, 1800);
  });

  it('treats empty and blank variables as unset', () => {
    const config = loadConfig({ PORT: '', HOST: '   ', BCRYPT_ROUNDS: ' ', PUBLIC_URL: '' });
    assert.equal(config.port, 5000);
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.bcryptRounds, 12);
    assert.equal(config.publicUrl, 'http://localhost:5000');
  });

  it('returns a frozen object that cannot be changed', () => {
    const config = loadConfig({});
    assert.equal(Object.isFrozen(config), true);
    assert.throws(() => {
      (config as { port: number }).port = 1;
    }, TypeError);
    assert.equal(config.port, 5000);
  });
});

describe('loadConfig parses each variable when set', () => {
  it('reads every setting from its variable', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '127.0.0.1',
      DATABASE_URL: 'sqlite::memory:',
      BCRYPT_ROUNDS: '10',
      PASSWORD_MIN_LENGTH: '12',
      DATABASE_POOL_SIZE: '25',
      HASH_CONCURRENCY: '2',
      PASSWORD_HASH: 'argon2id',
      ARGON2_MEMORY_KIB: '65536',
      ARGON2_ITERATIONS: '3',
      ARGON2_PARALLELISM: '2',
      PASSWORD_MAX_LENGTH: '256',
      SESSION_TTL: '3600',
      SESSION_IDLE_TTL: '600',
      SESSIONS_PER_USER: '1',
      RESET_TOKEN_TTL: '900',
      RESET_TOKEN_IN_RESPONSE: 'true',
      PUBLIC_URL: 'https://auth.example.com',
      SMTP_URL: 'smtp://user:secret@mail.example.com:2525',
      MAIL_FROM: 'Accounts <accounts@example.com>',
      LOG_LEVEL: 'warn',
      RATE_LIMIT: 'off',
      LOGIN_THROTTLE_AFTER: '3',
      LOGIN_THROTTLE_MAX_DELAY: '60',
      RATE_LIMIT_SIGNUP: '2/60',
      RATE_LIMIT_LOGIN: '5/10',
      RATE_LIMIT_RESET_REQUEST: '1/30',
      RATE_LIMIT_RESET: '4/40',
      RATE_LIMIT_ACCOUNT: '3/30',
      RATE_LIMIT_PASSKEY_OPTIONS: '7/70',
      RESET_EMAIL_LIMIT: '1/600',
      REDIS_URL: 'redis://:pw@cache:6379/2',
      REDIS_KEY_PREFIX: 'auth:',
      TRUST_PROXY: '10.0.0.0/8, loopback',
      HIBP: 'on',
      HIBP_URL: 'http://hibp.internal/',
      AUDIT_RETENTION_DAYS: '30',
      METRICS_PORT: '9464',
      METRICS_HOST: '0.0.0.0',
      REQUEST_TIMEOUT: '5',
      SESSION_COOKIE_NAME: '__Secure-sid',
      COOKIE_DOMAIN: 'Example.com',
      ACCESS_RULES_FILE: '/etc/bienvenue/rules.yml',
      SIGNUP: 'closed',
      SIGNUP_EMAIL_DOMAINS: 'example.com, @Example.org',
      INVITE_TTL: '3600',
      SECRET_KEY: '0123456789abcdef'.repeat(4),
      EMAIL_VERIFICATION: 'Required',
      EMAIL_VERIFICATION_TTL: '600',
    });
    assert.deepEqual(
      { ...config },
      {
        port: 8080,
        host: '127.0.0.1',
        databaseUrl: 'sqlite::memory:',
        databasePoolSize: 25,
        bcryptRounds: 10,
        hashConcurrency: 2,
        adaptiveHashConcurrency: false,
        passwordMinLength: 12,
        passwordHash: 'argon2id',
        argon2MemoryKib: 65536,
        argon2Iterations: 3,
        argon2Parallelism: 2,
        passwordMaxLength: 256,
        sessionTtl: 3600,
        sessionIdleTtl: 600,
        sessionsPerUser: 1,
        resetTokenTtl: 900,
        resetTokenInResponse: true,
        publicUrl: 'https://auth.example.com',
        smtpUrl: 'smtp://user:secret@mail.example.com:2525',
        mailFrom: 'Accounts <accounts@example.com>',
        logLevel: 'warn',
        rateLimit: false,
        loginThrottleAfter: 3,
        loginThrottleMaxDelay: 60,
        rateLimits: {
          signUp: { max: 2, windowSeconds: 60 },
          login: { max: 5, windowSeconds: 10 },
          resetRequest: { max: 1, windowSeconds: 30 },
          resetPassword: { max: 4, windowSeconds: 40 },
          account: { max: 3, windowSeconds: 30 },
          passkeyOptions: { max: 7, windowSeconds: 70 },
        },
        resetEmailLimit: { max: 1, windowSeconds: 600 },
        redisUrl: 'redis://:pw@cache:6379/2',
        redisKeyPrefix: 'auth:',
        trustProxy: '10.0.0.0/8, loopback',
        hibp: true,
        hibpUrl: 'http://hibp.internal',
        auditRetentionDays: 30,
        metricsPort: 9464,
        metricsHost: '0.0.0.0',
        requestTimeout: 5,
        sessionCookieName: '__Secure-sid',
        cookieDomain: 'example.com',
        accessRulesFile: '/etc/bienvenue/rules.yml',
        signup: 'closed',
        signupEmailDomains: ['example.com', 'example.org'],
        inviteTtl: 3600,
        secretKey: Buffer.from('0123456789abcdef'.repeat(4), 'hex'),
        emailVerification: 'required',
        emailVerificationTtl: 600,
      },
    );
  });

  it('trims surrounding whitespace from values', () => {
    const config = loadConfig({ PORT: ' 6000 ', HOST: ' ::1 ', LOG_LEVEL: ' debug ' });
    assert.equal(config.port, 6000);
    assert.equal(config.host, '::1');
    assert.equal(config.logLevel, 'debug');
  });

  it('derives the default PUBLIC_URL from PORT', () => {
    assert.equal(loadConfig({ PORT: '8123' }).publicUrl, 'http://localhost:8123');
  });

  it('accepts postgres:// and postgresql:// DATABASE_URLs', () => {
    for (const url of ['postgres://u:p@db:5432/auth', 'postgresql://db/auth']) {
      assert.equal(loadConfig({ DATABASE_URL: url }).databaseUrl, url);
    }
  });

  it('masks the database password when describing the settings and in problems', () => {
    const url = 'postgres://auth:hunter2@db.internal:5432/auth';
    assert.equal(
      describeConfig(loadConfig({ DATABASE_URL: url })).databaseUrl,
      'postgres://auth:***@db.internal:5432/auth',
    );
    assert.throws(
      () => loadConfig({ DATABASE_URL: 'mysql://auth:hunter2@db/auth' }),
      (error: unknown) => error instanceof ConfigError && !error.message.includes('hunter2'),
    );
  });

  it('refuses malformed rate limits, naming each variable', () => {
    assert.throws(
      () =>
        loadConfig({ RATE_LIMIT_LOGIN: '10', RESET_EMAIL_LIMIT: '0/60', REDIS_URL: 'cache:6379' }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.problems.length === 3 &&
        ['RATE_LIMIT_LOGIN', 'RESET_EMAIL_LIMIT', 'REDIS_URL'].every((name) =>
          error.problems.some((problem) => problem.startsWith(name)),
        ),
    );
  });

  it('refuses a DATABASE_POOL_SIZE of 0', () => {
    assert.throws(() => loadConfig({ DATABASE_POOL_SIZE: '0' }), /DATABASE_POOL_SIZE/);
  });

  it('accepts a file DATABASE_URL', () => {
    assert.equal(
      loadConfig({ DATABASE_URL: 'sqlite:/var/lib/bienvenue/users.db' }).databaseUrl,
      'sqlite:/var/lib/bienvenue/users.db',
    );
  });

  it('accepts an SMTP_URL scheme in any case', () => {
    assert.equal(
      loadConfig({ SMTP_URL: 'SMTP://mail.example.com' }).smtpUrl,
      'SMTP://mail.example.com',
    );
  });

  it('accepts an smtps SMTP_URL', () => {
    assert.equal(
      loadConfig({ SMTP_URL: 'smtps://mail.example.com' }).smtpUrl,
      'smtps://mail.example.com',
    );
  });

  it('reads LOG_LEVEL without regard to case', () => {
    assert.equal(loadConfig({ LOG_LEVEL: 'ERROR' }).logLevel, 'error');
    assert.equal(loadConfig({ LOG_LEVEL: 'silent' }).logLevel, 'silent');
  });

  it('accepts the bounds of each numeric range', () => {
    const low = loadConfig({
      PORT: '0',
      BCRYPT_ROUNDS: '4',
      PASSWORD_MIN_LENGTH: '1',
      RESET_TOKEN_TTL: '1',
    });
    assert.deepEqual(
      [low.port, low.bcryptRounds, low.passwordMinLength, low.resetTokenTtl],
      [0, 4, 1, 1],
    );
    const high = loadConfig({
      PORT: '65535',
      BCRYPT_ROUNDS: '20',
      PASSWORD_MIN_LENGTH: '72',
      RESET_TOKEN_TTL: String(7 * 24 * 3600),
      SESSION_TTL: String(366 * 24 * 3600),
    });
    assert.deepEqual(
      [high.port, high.bcryptRounds, high.passwordMinLength, high.resetTokenTtl, high.sessionTtl],
      [65535, 20, 72, 604800, 366 * 24 * 3600],
    );
  });
});

describe('loadConfig booleans', () => {
  for (const value of ['true', '1', 'yes', 'on', 'TRUE', 'Yes', ' on ']) {
    it(`reads RESET_TOKEN_IN_RESPONSE=${JSON.stringify(value)} as true`, () => {
      assert.equal(loadConfig({ RESET_TOKEN_IN_RESPONSE: value }).resetTokenInResponse, true);
    });
  }
  for (const value of ['false', '0', 'no', 'off', 'FALSE', 'Off']) {
    it(`reads RESET_TOKEN_IN_RESPONSE=${JSON.stringify(value)} as false`, () => {
      assert.equal(loadConfig({ RESET_TOKEN_IN_RESPONSE: value }).resetTokenInResponse, false);
    });
  }

  it('refuses a boolean that is neither true nor false', () => {
    const error = configError({ RESET_TOKEN_IN_RESPONSE: 'maybe' });
    assert.deepEqual(error.problems, ['RESET_TOKEN_IN_RESPONSE=maybe: expected true or false']);
  });
});

describe('loadConfig PUBLIC_URL', () => {
  it('strips a trailing slash', () => {
    assert.equal(
      loadConfig({ PUBLIC_URL: 'https://auth.example.com/' }).publicUrl,
      'https://auth.example.com',
    );
  });

  it('keeps a path prefix but strips its trailing slashes', () => {
    assert.equal(
      loadConfig({ PUBLIC_URL: 'https://example.com/auth//' }).publicUrl,
      'https://example.com/auth',
    );
  });

  it('keeps an explicit non-default port', () => {
    assert.equal(
      loadConfig({ PUBLIC_URL: 'http://127.0.0.1:8080/' }).publicUrl,
      'http://127.0.0.1:8080',
    );
  });

  it('refuses a URL with credentials, a query or a fragment', () => {
    for (const url of [
      'https://u:p@example.com',
      'https://example.com/?a=1',
      'https://example.com/#x',
    ]) {
      const error = configError({ PUBLIC_URL: url });
      assert.equal(error.problems.length, 1, url);
      assert.match(error.problems[0] ?? '', /^PUBLIC_URL=.*must not carry credentials/, url);
    }
  });

  it('refuses something that is not a URL', () => {
    const error = configError({ PUBLIC_URL: 'auth.example.com' });
    assert.deepEqual(error.problems, [
      'PUBLIC_URL=auth.example.com: expected an absolute http(s) URL',
    ]);
  });
});

describe('loadConfig refuses bad values', () => {
  const cases: [string, string][] = [
    ['PORT', 'abc'],
    ['PORT', '-1'],
    ['PORT', '65536'],
    ['PORT', '80.5'],
    ['PORT', '99999999999999999999'],
    ['BCRYPT_ROUNDS', '3'],
    ['BCRYPT_ROUNDS', '21'],
    ['PASSWORD_MIN_LENGTH', '0'],
    ['PASSWORD_MIN_LENGTH', '73'],
    ['PASSWORD_HASH', 'scrypt'],
    ['ARGON2_MEMORY_KIB', '1023'],
    ['ARGON2_MEMORY_KIB', 'lots'],
    ['ARGON2_ITERATIONS', '0'],
    ['ARGON2_ITERATIONS', '101'],
    ['ARGON2_PARALLELISM', '0'],
    ['ARGON2_PARALLELISM', '17'],
    ['PASSWORD_MAX_LENGTH', '63'],
    ['PASSWORD_MAX_LENGTH', '1025'],
    ['HASH_CONCURRENCY', '0'],
    ['HASH_CONCURRENCY', '5'],
    ['SESSION_TTL', '0'],
    ['SESSION_IDLE_TTL', 'forever'],
    ['SESSIONS_PER_USER', '0'],
    ['SESSIONS_PER_USER', '1001'],
    ['SESSIONS_PER_USER', '2.5'],
    ['RESET_TOKEN_TTL', '0'],
    ['RESET_TOKEN_TTL', String(7 * 24 * 3600 + 1)],
    ['DATABASE_URL', 'mysql://x'],
    ['DATABASE_URL', 'sqlite:'],
    ['PUBLIC_URL', 'ftp://x'],
    ['SMTP_URL', 'nonsense'],
    ['LOG_LEVEL', 'loud'],
    ['REQUEST_TIMEOUT', '0'],
    ['REQUEST_TIMEOUT', '31'],
    ['SESSION_COOKIE_NAME', 'session id'],
    ['SESSION_COOKIE_NAME', 'a;b'],
    ['SESSION_COOKIE_NAME', 'sé'],
    // PUBLIC_URL defaults to http://localhost:PORT.
    ['SESSION_COOKIE_NAME', '__Host-session_id'],
    ['SESSION_COOKIE_NAME', '__host-session_id'],
    ['SESSION_COOKIE_NAME', '__Secure-session_id'],
    ['EMAIL_VERIFICATION', 'sometimes'],
    ['EMAIL_VERIFICATION', 'true'],
    ['EMAIL_VERIFICATION_TTL', '59'],
    ['EMAIL_VERIFICATION_TTL', '2592001'],
  ];
  for (const [variable, value] of cases) {
    it(`refuses ${variable}=${value} with one problem naming ${variable}`, () => {
      const error = configError({ [variable]: value });
      assert.equal(error.problems.length, 1, error.problems.join('\n'));
      assert.ok(error.problems[0]?.startsWith(variable), error.problems[0]);
    });
  }

  it('allows a PASSWORD_MIN_LENGTH above 72 only with argon2id, up to PASSWORD_MAX_LENGTH', () => {
    const argon2id = loadConfig({ PASSWORD_HASH: 'argon2id', PASSWORD_MIN_LENGTH: '100' });
    assert.equal(argon2id.passwordMinLength, 100);
    const error = configError({
      PASSWORD_HASH: 'argon2id',
      PASSWORD_MAX_LENGTH: '64',
      PASSWORD_MIN_LENGTH: '65',
    });
    assert.deepEqual(
      error.problems.map((line) => line.split('=')[0]),
      ['PASSWORD_MIN_LENGTH'],
    );
  });

  it('reports every bad variable at once in a single ConfigError', () => {
    const error = configError({
      PORT: 'abc',
      BCRYPT_ROUNDS: '3',
      PUBLIC_URL: 'ftp://x',
      DATABASE_URL: 'mysql://x',
      LOG_LEVEL: 'loud',
      SMTP_URL: 'nonsense',
    });
    assert.equal(error.name, 'ConfigError');
    const bad = ['PORT', 'BCRYPT_ROUNDS', 'PUBLIC_URL', 'DATABASE_URL', 'LOG_LEVEL', 'SMTP_URL'];
    assert.equal(error.problems.length, bad.length, error.problems.join('\n'));
    for (const variable of bad) {
      assert.equal(problemsAbout(error, variable).length, 1, `${variable} in ${error.message}`);
      assert.ok(error.message.includes(variable), `message names ${variable}`);
    }
    assert.ok(problemsAbout(error, 'PORT')[0]?.includes('abc'));
    assert.ok(problemsAbout(error, 'BCRYPT_ROUNDS')[0]?.includes('from 4 to 20'));
    assert.ok(problemsAbout(error, 'DATABASE_URL')[0]?.includes('mysql://x'));
    assert.ok(problemsAbout(error, 'LOG_LEVEL')[0]?.includes('loud'));
  });

  it('does not repeat an SMTP_URL value, which may hold a password, in its problem', () => {
    const error = configError({ SMTP_URL: 'mail.example.com:s3cret' });
    assert.equal(error.problems.length, 1);
    assert.ok(!error.message.includes('s3cret'), error.message);
  });
});

describe('describeConfig', () => {
  it('masks the SMTP credentials and keeps the rest', () => {
    const config = loadConfig({ SMTP_URL: 'smtp://user:s3cret@mail.example.com:25' });
    const described = describeConfig(config);
    assert.equal(described.smtpUrl, 'smtp://user:***@mail.example.com:25');
    assert.equal(described.port, 5000);
    assert.equal(config.smtpUrl, 'smtp://user:s3cret@mail.example.com:25');
  });

  it('masks SECRET_KEY, in every form it could be printed in', () => {
    const key = Buffer.from(Array.from({ length: 32 }, (_, index) => 255 - index * 3));
    const config = loadConfig({ SECRET_KEY: key.toString('base64') });
    assert.deepEqual(config.secretKey, key);
    const described = describeConfig(config);
    assert.equal(described.secretKey, '***');
    const printed = JSON.stringify(described);
    for (const encoding of ['base64', 'base64url', 'hex'] as const) {
      assert.ok(!printed.includes(key.toString(encoding)), encoding);
    }
    assert.ok(!printed.includes(JSON.stringify([...key]).slice(1, -1)), 'the bytes as numbers');
    assert.equal(describeConfig(loadConfig({})).secretKey, undefined);
  });
});

describe('loadConfig SECRET_KEY', () => {
  const key = Buffer.from(Array.from({ length: 32 }, (_, index) => (index * 37 + 11) % 256));
  // A key whose base64 spellings use both alphabets' own characters (+/ and -_).
  const signs = Buffer.from('fbff' + '00'.repeat(27) + 'fbff00', 'hex');

  it('is undefined when unset or empty', () => {
    assert.equal(loadConfig({}).secretKey, undefined);
    assert.equal(loadConfig({ SECRET_KEY: '  ' }).secretKey, undefined);
  });

  it('reads 32 bytes as standard or URL-safe base64, padded or not, or as hex', () => {
    for (const spelling of [
      key.toString('base64'),
      key.toString('base64').replace(/=$/, ''),
      key.toString('base64url'),
      `${key.toString('base64url')}=`,
      key.toString('hex'),
      key.toString('hex').toUpperCase(),
      ` ${key.toString('hex')}\n`,
    ]) {
      assert.deepEqual(loadConfig({ SECRET_KEY: spelling }).secretKey, key, spelling);
    }
    assert.deepEqual(loadConfig({ SECRET_KEY: signs.toString('base64') }).secretKey, signs);
    assert.deepEqual(loadConfig({ SECRET_KEY: signs.toString('base64url') }).secretKey, signs);
  });

  const refused: [string, string][] = [
    ['16 bytes in base64', key.subarray(0, 16).toString('base64')],
    ['31 bytes in base64', key.subarray(0, 31).toString('base64')],
    ['33 bytes in base64', Buffer.concat([key, key.subarray(0, 1)]).toString('base64')],
    ['64 bytes in base64', Buffer.concat([key, key]).toString('base64')],
    ['63 hex digits', key.toString('hex').slice(1)],
    ['65 hex digits', `${key.toString('hex')}0`],
    ['hex with a non-hex digit', `${key.toString('hex').slice(0, 63)}g`],
    ['a passphrase', 'correct horse battery staple'],
    ['base64 with a stray character', `${key.toString('base64').slice(0, 42)}*=`],
    [
      'base64 with a space inside',
      `${key.toString('base64').slice(0, 20)} ${key.toString('base64').slice(20, 43)}`,
    ],
    [
      'both alphabets at once',
      `${signs.toString('base64').slice(0, 1)}_${signs.toString('base64').slice(2)}`,
    ],
    ['two padding characters', `${key.toString('base64').slice(0, 43)}==`],
    [
      'spare bits set in the last character',
      `${key.toString('base64').slice(0, 42)}${String.fromCharCode(key.toString('base64').charCodeAt(42) + 1)}`,
    ],
    ['all zero bytes', Buffer.alloc(32).toString('base64')],
    ['one byte repeated, in hex', 'ab'.repeat(32)],
  ];
  for (const [what, value] of refused) {
    it(`refuses ${what}, naming the variable and not the value`, () => {
      const error = configError({ SECRET_KEY: value });
      assert.equal(problemsAbout(error, 'SECRET_KEY').length, 1, error.message);
      assert.ok(!error.message.includes(value.trim()), error.message);
      assert.ok(!error.message.includes(value.trim().slice(0, 12)), error.message);
    });
  }
});

describe('loadConfig TRUST_PROXY', () => {
  it('accepts addresses, CIDR ranges and the keywords, and hands them on as one list', () => {
    const config = loadConfig({
      TRUST_PROXY: '10.0.0.1,192.168.0.0/16 , ::1, fd00::/8, loopback, linklocal, uniquelocal',
    });
    assert.equal(
      config.trustProxy,
      '10.0.0.1, 192.168.0.0/16, ::1, fd00::/8, loopback, linklocal, uniquelocal',
    );
  });

  const refused = [
    'foo',
    '1',
    '2',
    '10.0.0.0/33',
    '10.0.0.0/0',
    '::/129',
    '10.0.0.0/8/8',
    '10.0.0.0/',
    '10.0.0.0/255.0.0.0',
    '10.0.0.1,,10.0.0.2',
    '10.0.0.1, Loopback',
    '256.0.0.1',
    'proxy.internal',
  ];
  for (const value of refused) {
    it(`refuses TRUST_PROXY=${value} with one problem naming TRUST_PROXY`, () => {
      const error = configError({ TRUST_PROXY: value });
      assert.equal(error.problems.length, 1, error.problems.join('\n'));
      assert.ok(error.problems[0]?.startsWith('TRUST_PROXY='), error.problems[0]);
    });
  }

  it('accepts only what the HTTP server accepts as its trusted proxies', () => {
    const octet = fc.integer({ min: 0, max: 300 }).map(String);
    const entry = fc.oneof(
      fc.constantFrom('loopback', 'linklocal', 'uniquelocal', 'foo', '1', '', '::1', 'fe80::1'),
      fc.tuple(octet, octet, octet, octet).map((parts) => parts.join('.')),
      fc.ipV4(),
      fc.ipV6(),
      fc.string(),
    );
    const withPrefix = fc.tuple(
      entry,
      fc.option(fc.oneof(fc.integer({ min: -1, max: 140 }).map(String), fc.string()), {
        nil: undefined,
      }),
    );
    const list = fc.array(
      withPrefix.map(([address, prefix]) =>
        prefix === undefined ? address : `${address}/${prefix}`,
      ),
      { minLength: 1, maxLength: 3 },
    );
    fc.assert(
      fc.property(list, (entries) => {
        let trustProxy: string | undefined;
        try {
          trustProxy = loadConfig({ TRUST_PROXY: entries.join(',') }).trustProxy;
        } catch (error) {
          assert.ok(error instanceof ConfigError);
          return;
        }
        if (trustProxy === undefined) return;
        // Fastify compiles its trusted proxies when the instance is made, and throws on bad ones.
        void Fastify({ trustProxy });
      }),
      { numRuns: 2000 },
    );
  });
});

describe('loadConfig SESSION_COOKIE_NAME', () => {
  it('allows a __Host- name with an https PUBLIC_URL, and any token name with http', () => {
    const https = { PUBLIC_URL: 'https://auth.example.com' };
    assert.equal(
      loadConfig({ ...https, SESSION_COOKIE_NAME: '__Host-session_id' }).sessionCookieName,
      '__Host-session_id',
    );
    assert.equal(loadConfig({ SESSION_COOKIE_NAME: 'sid' }).sessionCookieName, 'sid');
  });

  it('refuses a __Host- name with an http PUBLIC_URL, saying why', () => {
    const error = configError({
      PUBLIC_URL: 'http://auth.example.com',
      SESSION_COOKIE_NAME: '__Host-session_id',
    });
    assert.deepEqual(problemsAbout(error, 'SESSION_COOKIE_NAME').length, 1);
    assert.match(error.problems[0] ?? '', /https PUBLIC_URL/);
  });
});

describe('loadConfig COOKIE_DOMAIN', () => {
  it("takes PUBLIC_URL's own host or a domain above it, in lower-case ASCII without a leading dot", () => {
    const at = (PUBLIC_URL: string, COOKIE_DOMAIN: string) =>
      loadConfig({ PUBLIC_URL, COOKIE_DOMAIN }).cookieDomain;
    assert.equal(at('https://auth.example.com', 'example.com'), 'example.com');
    assert.equal(at('https://auth.example.com', '.Example.COM'), 'example.com');
    assert.equal(at('https://auth.example.com', 'auth.example.com'), 'auth.example.com');
    assert.equal(at('https://auth.bücher.example', 'bücher.example'), 'xn--bcher-kva.example');
  });

  it('refuses a domain PUBLIC_URL is not under, a top-level domain, an IP address and junk', () => {
    for (const [publicUrl, domain] of [
      ['https://auth.example.com', 'example.org'],
      ['https://auth.example.com', 'ample.com'],
      ['https://example.com', 'auth.example.com'],
      ['https://auth.example.com', 'com'],
      ['http://127.0.0.1:5000', '127.0.0.1'],
      ['https://auth.example.com', 'example.com/path'],
      ['https://auth.example.com', 'exa mple.com'],
      ['https://auth.example.com', '*.example.com'],
    ] as const) {
      const error = configError({ PUBLIC_URL: publicUrl, COOKIE_DOMAIN: domain });
      assert.equal(problemsAbout(error, 'COOKIE_DOMAIN').length, 1, `${publicUrl} ${domain}`);
    }
  });

  it('refuses a __Host- cookie name with a Domain, which browsers would reject', () => {
    const error = configError({
      PUBLIC_URL: 'https://auth.example.com',
      COOKIE_DOMAIN: 'example.com',
      SESSION_COOKIE_NAME: '__Host-session_id',
    });
    assert.match(problemsAbout(error, 'SESSION_COOKIE_NAME')[0] ?? '', /COOKIE_DOMAIN/);
  });
});

describe('loadConfig sign-up policy', () => {
  it('refuses an unknown SIGNUP, bad SIGNUP_EMAIL_DOMAINS and an INVITE_TTL out of range', () => {
    const error = configError({
      SIGNUP: 'invite-only',
      SIGNUP_EMAIL_DOMAINS: 'example.com, not a domain',
      INVITE_TTL: '10',
    });
    assert.equal(problemsAbout(error, 'SIGNUP=').length, 1);
    assert.match(problemsAbout(error, 'SIGNUP_EMAIL_DOMAINS')[0] ?? '', /"not a domain"/);
    assert.equal(problemsAbout(error, 'INVITE_TTL').length, 1);
  });
});
