/**
 * Builds a whole service (config, migrated database, Auth, HTTP app) for a test, on a fresh
 * database of the engine under test (see databases.ts) unless DATABASE_URL is given, with bcrypt at its cheapest cost and logs captured.
 */
import { randomBytes } from 'node:crypto';
import { after } from 'node:test';
import { Writable } from 'node:stream';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { createService, type ServiceOverrides } from '../../src/compose.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import type { ReloadableAccessRules } from '../../src/auth/access-rules-reload.js';
import type { AccountAdmin } from '../../src/auth/admin.js';
import type { SecretBox } from '../../src/auth/secret-box.js';
import type { Auth } from '../../src/auth/service.js';
import type { Metrics } from '../../src/metrics.js';
import { freshDatabaseUrl } from './databases.js';
import { FakeClock, RecordingMailer } from './fakes.js';

export interface TestService {
  readonly app: FastifyInstance;
  readonly auth: Auth;
  readonly admin: AccountAdmin;
  readonly metrics: Metrics;
  /** The service's secret box: tests' services always have a key (SECRET_KEY below). */
  readonly secretBox: SecretBox | undefined;
  readonly accessRules: ReloadableAccessRules;
  readonly config: Config;
  readonly clock: FakeClock;
  readonly mailer: RecordingMailer;
  /** Every log line written so far, as raw JSON text. */
  readonly logs: string[];
}

export const TEST_ENV = {
  BCRYPT_ROUNDS: '4',
  // Some tests hold a password check open while another hash must run (a race on purpose).
  HASH_CONCURRENCY: '4',
  // Abuse protection would trip over tests that sign up dozens of accounts from one address;
  // the tests of abuse protection turn it on.
  RATE_LIMIT: 'off',
  LOG_LEVEL: 'debug',
  PUBLIC_URL: 'http://auth.test',
  // One key for the whole test process, so that two-factor authentication works on both engines
  // (PostgreSQL has no key without it); the tests of the key's sources unset it.
  SECRET_KEY: randomBytes(32).toString('base64'),
  // Sign-ups send no verification link, so that tests of other things see only their own mails;
  // the tests of verification set optional or required.
  EMAIL_VERIFICATION: 'off',
} as const;

/** A service that is closed when the calling test file ends. */
export async function startTestService(
  env: Record<string, string> = {},
  overrides: ServiceOverrides = {},
): Promise<TestService> {
  const config = loadConfig({ ...TEST_ENV, DATABASE_URL: await freshDatabaseUrl(), ...env });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(chunk.toString());
      done();
    },
  });
  const clock = new FakeClock();
  const mailer = new RecordingMailer();
  const { app, auth, admin, metrics, secretBox, accessRules } = await createService(
    config,
    createLogger(config.logLevel, sink),
    {
      clock,
      mailer,
      backgroundDelayMs: () => 0,
      ...overrides,
    },
  );
  after(() => app.close());
  return { app, auth, admin, metrics, secretBox, accessRules, config, clock, mailer, logs };
}

/** An urlencoded form body, as the course's Python client sends. */
export function form(fields: Record<string, string>) {
  return {
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(fields).toString(),
  };
}

/** Sends `fields` as an urlencoded form with `method` to `url`. */
export function submit(
  app: FastifyInstance,
  method: 'POST' | 'PUT',
  url: string,
  fields: Record<string, string>,
): Promise<LightMyRequestResponse> {
  return app.inject({ method, url, ...form(fields) });
}

/** The value of the session_id cookie a response sets, if any. */
export function sessionCookie(response: LightMyRequestResponse): string | undefined {
  return response.cookies.find((cookie) => cookie.name === 'session_id')?.value;
}

/** Signs up and logs in through HTTP; returns the session id. */
export async function signUpAndLogIn(
  app: FastifyInstance,
  email = 'bob@example.com',
  password = 'correct horse',
): Promise<string> {
  const signUp = await submit(app, 'POST', '/users', { email, password });
  if (signUp.statusCode !== 200) throw new Error(`sign-up failed: ${signUp.body}`);
  const login = await app.inject({
    method: 'POST',
    url: '/sessions',
    ...form({ email, password }),
  });
  const sessionId = sessionCookie(login);
  if (sessionId === undefined) throw new Error(`login failed: ${login.body}`);
  return sessionId;
}
