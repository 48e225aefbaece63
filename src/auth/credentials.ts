/**
 * Checking a password against an account: the one lower piece that logins and account
 * self-service share.
 *
 * Guarantees:
 * - A check costs one password comparison whether or not the account exists (an unknown or
 *   malformed address is compared against a dummy hash), so neither the answer nor its time tells.
 * - Every check of an account goes through one {@link GuardedCheck}: one count per address key,
 *   counted before the password is checked, throttled with backoff when abuse protection is on.
 * - An account with no password yet (`NO_PASSWORD`, passwords.ts) is checked like an unknown one:
 *   one comparison against the dummy hash, and never verified.
 * - A hash of the other algorithm, or of weaker settings than configured, is upgraded after a
 *   successful check (audited as `password_rehashed`), never over a password changed meanwhile
 *   (compare-and-set on the old hash). A failed upgrade is logged and never fails the check.
 * - A password longer than the configured limits never reaches a hasher: it could never have
 *   been set.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { DB } from '../db/db.js';
import type { User } from '../db/schema.js';
import type { Throttles } from '../db/throttles.js';
import type { AuditLog, RequestContext } from './audit.js';
import { storedEmail, type EmailAddress } from './email.js';
import { GuardedCheck } from './guarded-check.js';
import {
  hasPassword,
  normalizePassword,
  unusablePasswordReason,
  type PasswordHasher,
  type PasswordLength,
} from './passwords.js';
import { LOGIN } from './rules.js';
import { generateUuid } from './tokens.js';

export interface ThrottlingSettings {
  /** Consecutive failed logins of one email before each further attempt must wait. */
  readonly loginAfter: number;
  /** The longest such wait, in seconds (the backoff doubles up to it). */
  readonly loginMaxDelaySeconds: number;
  /** Reset emails one account may receive per window. */
  readonly resetEmails: { readonly max: number; readonly windowSeconds: number };
}

export interface CredentialsDependencies {
  readonly db: DB;
  readonly hasher: PasswordHasher;
  readonly clock: Clock;
  readonly throttles: Throttles;
  readonly audit: AuditLog;
  readonly logger: Logger;
  /** The length limits of passwords (the policy's). */
  readonly passwordRules: { readonly length: PasswordLength };
  /** Abuse protection; none when undefined. */
  readonly throttling?: ThrottlingSettings | undefined;
}

/** What a check found: the account of the address if any, and it again if the password is its. */
export interface Authentication {
  readonly account?: User;
  readonly verified?: User;
}

export class Credentials {
  /** Every password check of an account: logins and self-service confirmations. */
  readonly check: GuardedCheck;
  /** Compared against when an email is unknown, so that a check costs the same either way. */
  private readonly dummyHash: Promise<string>;

  constructor(private readonly deps: CredentialsDependencies) {
    const { throttling } = deps;
    this.check = new GuardedCheck({
      throttles: deps.throttles,
      clock: deps.clock,
      kind: LOGIN,
      settings: throttling && {
        freeAttempts: throttling.loginAfter,
        maxDelaySeconds: throttling.loginMaxDelaySeconds,
      },
      onRefused: async (address, context) => {
        // Subjects are comparison keys (see LoginFlow).
        const user = await deps.db.findUser({ email_key: address });
        deps.audit.record({ type: 'login_throttled', user, context });
      },
    });
    this.dummyHash = deps.hasher.hash(generateUuid());
    // Surfaced when awaited; never an unhandled rejection meanwhile.
    this.dummyHash.catch(() => undefined);
  }

  /** The account stored under `email` (as stored, already normalized) if `password` is its. */
  async verify(
    email: string,
    password: string,
    context?: RequestContext,
  ): Promise<User | undefined> {
    return (await this.authenticate(storedEmail(email), password, context)).verified;
  }

  /**
   * The account of `email` if any, and it again as `verified` if `password` is its password. With
   * no email (a malformed one), the dummy comparison alone, as for an unknown address.
   */
  async authenticate(
    email: EmailAddress | null,
    password: string,
    context?: RequestContext,
  ): Promise<Authentication> {
    const { db, hasher } = this.deps;
    const signal = context?.signal;
    const candidate = normalizePassword(password);
    const user = email === null ? undefined : await db.findUserByEmail(email);
    // A password that could never have been set cannot match; refusing it costs no hash and is
    // the same for every account, so it tells nothing.
    if (unusablePasswordReason(candidate, this.deps.passwordRules.length) !== null) {
      return { account: user };
    }
    // An account without a password (invited, not yet set) is compared against the dummy hash
    // too: refused at the same cost as a wrong password, and its marker never reaches a hasher.
    const stored = user !== undefined && hasPassword(user.hashed_password) ? user : undefined;
    const hash = stored?.hashed_password ?? (await this.dummyHash);
    const matches = await hasher.verify(candidate, hash, { signal });
    if (stored === undefined || !matches) return { account: user };
    if (!hasher.needsRehash(stored.hashed_password)) return { account: stored, verified: stored };
    const upgradedUser = await this.rehash(stored, candidate, context);
    if (upgradedUser !== undefined) return { account: upgradedUser, verified: upgradedUser };
    // The upgrade failed, or lost to another write. A failed upgrade never fails the login; a
    // concurrent login's upgrade of this same password lets this one in too; a new password
    // (a change or a reset) wins.
    const current = await db.findUser({ id: stored.id });
    if (current === undefined) return { account: undefined };
    if (current.hashed_password === stored.hashed_password)
      return { account: stored, verified: stored };
    const stillRight =
      hasPassword(current.hashed_password) &&
      (await hasher.verify(candidate, current.hashed_password, { signal }));
    return stillRight ? { account: current, verified: current } : { account: current };
  }

  /**
   * `user`, its hash replaced by a fresh one of `password` (just verified) at the configured
   * algorithm and settings; undefined when the password changed meanwhile or the upgrade failed.
   */
  private async rehash(
    user: User,
    password: string,
    context: RequestContext | undefined,
  ): Promise<User | undefined> {
    const { db, hasher, audit, logger } = this.deps;
    try {
      const upgraded = await hasher.hash(password, { signal: context?.signal });
      // Never over a password changed meanwhile: only if the old hash is still the stored one.
      const replaced = await db.compareAndUpdateUser(
        user.id,
        { hashed_password: user.hashed_password },
        { hashed_password: upgraded },
      );
      if (!replaced) return undefined;
      audit.record({ type: 'password_rehashed', user, context });
      return { ...user, hashed_password: upgraded };
    } catch (error) {
      logger.warn({ err: error, userId: user.id }, 'a password hash could not be upgraded');
      return undefined;
    }
  }
}
