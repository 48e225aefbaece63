/**
 * Services with two-factor authentication for tests: a key of their own, an account, and its
 * factor on when asked, on a database the test can read behind the service's back.
 */
import { randomBytes } from 'node:crypto';
import { openDatabase, type Database } from '../../src/db/connection.js';
import { freshDatabaseUrl } from './databases.js';
import { startTestService, type TestService } from './service.js';
import { totpCodeAt } from './totp.js';

export const PASSWORD = 'correct horse battery';

export interface Enrolled {
  readonly service: TestService;
  readonly database: Database;
  readonly userId: number;
  /** The account's session token. */
  readonly token: string;
  readonly secret: string;
  readonly codes: string[];
}

/** A service with a random key (none with `key: false`) over a database the test can read. */
export async function startWithDatabase(
  options: { key?: boolean; env?: Record<string, string> } = {},
) {
  const database = openDatabase(await freshDatabaseUrl());
  const service = await startTestService(options.env ?? {}, {
    database,
    secretKey: options.key === false ? null : randomBytes(32),
  });
  return { service, database };
}

/** Logs in with {@link PASSWORD}; returns the session token. */
export async function logIn(service: TestService, email: string): Promise<string> {
  const outcome = await service.auth.login(email, PASSWORD);
  if (outcome.outcome !== 'logged_in') throw new Error(`login failed: ${outcome.outcome}`);
  return outcome.sessionId;
}

/**
 * A service with one account, its factor on; the clock is moved two steps past the confirming
 * code's, so that the step before the current one is unused.
 */
export async function enrolled(
  options: { email?: string; env?: Record<string, string> } = {},
): Promise<Enrolled> {
  const email = options.email ?? 'bob@example.com';
  const { service, database } = await startWithDatabase(options.env ? { env: options.env } : {});
  const account = await service.auth.registerUser(email, PASSWORD);
  const token = await logIn(service, email);
  const pending = await service.auth.twoFactor.beginEnrolment(token, PASSWORD);
  if (typeof pending === 'string') throw new Error(`enrolment refused: ${pending}`);
  const confirmed = await service.auth.twoFactor.confirmEnrolment(
    token,
    totpCodeAt(pending.secret, service.clock.now()),
  );
  if (typeof confirmed === 'string') throw new Error(`confirmation refused: ${confirmed}`);
  service.clock.advanceSeconds(60);
  return {
    service,
    database,
    userId: account.id,
    token,
    secret: pending.secret,
    codes: confirmed.recoveryCodes,
  };
}

/** The types of the audit events recorded so far, oldest first. */
export async function auditTypes(service: TestService): Promise<string[]> {
  await service.auth.drain();
  const rows = await service.admin.events({ limit: 100 });
  return rows.map((row) => row.type).reverse();
}
