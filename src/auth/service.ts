/**
 * The Auth service: every rule about accounts, sessions and password resets lives here, and the
 * HTTP app (like any other front end) talks to this class only, never to the database.
 *
 * Guarantees:
 * - Secrets at rest: passwords as bcrypt hashes; session ids and reset tokens as SHA-256 digests.
 * - Login costs one bcrypt comparison whether or not the account exists, and whether or not the
 *   email is well formed; a malformed one is never queried nor stored.
 * - Addresses are compared by their key (auth/email.ts): look-alikes are one account.
 * - An account has up to `sessionsPerUser` sessions (auth/sessions.ts): each login opens one more
 *   and leaves the others alone, but for the least recently seen beyond the cap. Logout ends the
 *   caller's own session; a password reset or the account's deletion ends all of them.
 * - A reset token works once, for its own account, until `resetTokenTtl` has passed.
 * - Account self-service (changing the password, deleting the account) needs a live session and
 *   the current password, which is checked and throttled like a login.
 */
import { randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { DB } from '../db/db.js';
import type { Throttles } from '../db/throttles.js';
import { UniqueViolationError } from '../db/errors.js';
import type { User } from '../db/schema.js';
import type { Mailer } from '../mail/mailer.js';
import { passwordResetMessage } from '../mail/messages.js';
import { emailKey, parseEmail, signUpRefusal, storedEmail, type EmailAddress } from './email.js';
import {
  InvalidEmailError,
  InvalidResetTokenError,
  UnknownEmailError,
  UserAlreadyExistsError,
} from './errors.js';
import type { AuditLog, RequestContext } from './audit.js';
import { GuardedCheck } from './guarded-check.js';
import { AccountSelfService } from './self-service.js';
import {
  normalizePassword,
  unusablePasswordReason,
  type PasswordHasher,
  type PasswordRules,
} from './passwords.js';
import { LOGIN, RESET_EMAIL, RESET_EMAIL_COOLDOWN } from './rules.js';
import type { SessionManager } from './sessions.js';
import { digestToken, generateUuid, isUuid } from './tokens.js';

/** Durations in seconds. */
export interface AuthSettings {
  readonly sessionTtl: number;
  readonly sessionIdleTtl: number;
  /** Most sessions one account holds at once. */
  readonly sessionsPerUser: number;
  readonly resetTokenTtl: number;
  /** Base of the links put in emails; never taken from a request. */
  readonly publicUrl: string;
  /** Abuse protection; none when undefined. */
  readonly throttling?: ThrottlingSettings;
}

export interface ThrottlingSettings {
  /** Consecutive failed logins of one email before each further attempt must wait. */
  readonly loginAfter: number;
  /** The longest such wait, in seconds (the backoff doubles up to it). */
  readonly loginMaxDelaySeconds: number;
  /** Reset emails one account may receive per window. */
  readonly resetEmails: { readonly max: number; readonly windowSeconds: number };
}

export interface AuthDependencies {
  readonly db: DB;
  /** Starts, validates and ends sessions (shared with account administration). */
  readonly sessions: SessionManager;
  readonly hasher: PasswordHasher;
  readonly clock: Clock;
  readonly mailer: Mailer;
  readonly logger: Logger;
  readonly settings: AuthSettings;
  readonly throttles: Throttles;
  readonly passwordRules: PasswordRules;
  readonly audit: AuditLog;
  /** Delay before a reset request's background work; random by default. */
  readonly backgroundDelayMs?: () => number;
}

/** Reset emails waiting to be sent at once; beyond this, requests are dropped (and logged). */
export const MAX_PENDING_RESET_EMAILS = 100;
/** With abuse protection on, an account gets at most one reset email in this time. */
export const RESET_EMAIL_COOLDOWN_MS = 60 * 1000;
/** The background work of a reset request starts after a random delay up to this long. */
const MAX_RESET_DELAY_MS = 1000;

export class Auth {
  private readonly db: DB;
  private readonly hasher: PasswordHasher;
  private readonly clock: Clock;
  private readonly mailer: Mailer;
  private readonly logger: Logger;
  private readonly settings: AuthSettings;
  private readonly sessions: SessionManager;
  /** Compared against when an email is unknown, so that login costs the same either way. */
  private readonly dummyHash: Promise<string>;
  private readonly backgroundTasks = new Set<Promise<void>>();
  private readonly backgroundDelayMs: () => number;
  private readonly throttles: Throttles;
  private readonly passwordRules: PasswordRules;
  private readonly audit: AuditLog;
  /** Every password check of an account: logins and self-service confirmations. */
  private readonly passwordCheck: GuardedCheck;
  private readonly selfService: AccountSelfService;

  constructor(dependencies: AuthDependencies) {
    ({
      db: this.db,
      hasher: this.hasher,
      clock: this.clock,
      mailer: this.mailer,
      logger: this.logger,
      settings: this.settings,
    } = dependencies);
    this.throttles = dependencies.throttles;
    this.passwordRules = dependencies.passwordRules;
    this.audit = dependencies.audit;
    this.sessions = dependencies.sessions;
    const throttling = this.settings.throttling;
    this.passwordCheck = new GuardedCheck({
      throttles: this.throttles,
      clock: this.clock,
      kind: LOGIN,
      settings: throttling && {
        freeAttempts: throttling.loginAfter,
        maxDelaySeconds: throttling.loginMaxDelaySeconds,
      },
      onRefused: async (address, context) => {
        // Subjects are comparison keys (see login).
        const user = await this.db.findUser({ email_key: address });
        this.audit.record({ type: 'login_throttled', user, context });
      },
    });
    this.selfService = new AccountSelfService({
      ...dependencies,
      passwordCheck: this.passwordCheck,
      publicUrl: this.settings.publicUrl,
      verify: async (email, password, signal) =>
        (await this.authenticate(storedEmail(email), password, signal)).verified,
      inBackground: (work, failure) => this.inBackground(work, failure),
    });
    this.backgroundDelayMs =
      dependencies.backgroundDelayMs ?? (() => randomInt(MAX_RESET_DELAY_MS + 1));
    this.dummyHash = this.hasher.hash(generateUuid());
    // Surfaced when awaited; never an unhandled rejection meanwhile.
    this.dummyHash.catch(() => undefined);
  }

  /** A salted bcrypt hash of `password` (the course's `_hash_password`). */
  hashPassword(password: string): Promise<string> {
    return this.hasher.hash(normalizePassword(password));
  }

  /**
   * Creates an account. Throws {@link InvalidEmailError}, {@link PasswordPolicyError}, or
   * {@link UserAlreadyExistsError} (also when a concurrent sign-up for the address won).
   */
  async registerUser(email: string, password: string, context?: RequestContext): Promise<User> {
    const parsed = this.requireValidEmail(email);
    const { address } = parsed;
    const refusal = signUpRefusal(address);
    if (refusal === 'email_mixed_scripts') {
      throw new InvalidEmailError(
        'The part before @ mixes letters of different scripts (such as Latin and Cyrillic)',
        refusal,
      );
    }
    if (refusal !== null) {
      throw new InvalidEmailError(
        'The email address holds a character that cannot be used (unassigned, private-use, blank or overlaid)',
        refusal,
      );
    }
    const acceptedPassword = await this.passwordRules.accept(password);
    // Spares the bcrypt work for a taken address; the unique indexes still decide races.
    if ((await this.db.findUserByEmail(parsed)) !== undefined) {
      throw new UserAlreadyExistsError(address);
    }
    const hashedPassword = await this.hasher.hash(acceptedPassword, { signal: context?.signal });
    let user: User;
    try {
      user = await this.db.addUser(address, hashedPassword, { emailKey: parsed.key });
    } catch (error) {
      if (error instanceof UniqueViolationError) throw new UserAlreadyExistsError(address);
      throw error;
    }
    this.audit.record({ type: 'user_registered', user, context });
    return user;
  }

  /**
   * True when the email names an account and the password is its password. Counted like a
   * login's check: while the address is throttled this throws {@link TooManyAttemptsError}
   * without checking the password.
   */
  async validLogin(email: string, password: string): Promise<boolean> {
    const parsed = parseEmail(email);
    if (parsed === null) return (await this.authenticate(null, password)).verified !== undefined;
    const verified = await this.passwordCheck.attempt(
      parsed.key,
      async () => (await this.authenticate(parsed, password)).verified,
    );
    return verified !== undefined;
  }

  /**
   * Checks the credentials and, when they are right, opens a new session, leaving the account's
   * others alone (but for the least recently seen beyond `sessionsPerUser`). Returns the new
   * session id, to be given to the client once, or null. With throttling on, attempts are counted per email (known or not, alike) before the password is
   * checked, and after `loginAfter` of them each further attempt must wait, the wait doubling up
   * to `loginMaxDelaySeconds`: during it this throws {@link TooManyAttemptsError} without checking
   * the password (see {@link GuardedCheck}). A successful login or a completed reset clears the
   * count. Throws {@link BusyError} when too many checks wait already, and
   * {@link RequestAbandonedError} when `context.signal` aborted before the check began.
   */
  async login(
    email: string,
    password: string,
    context?: RequestContext,
  ): Promise<{ user: User; sessionId: string } | null> {
    const parsed = parseEmail(email);
    if (parsed === null) return this.refuseMalformedLogin(password, context);
    // Counted per comparison key: look-alikes of an address share its count.
    const address = parsed.key;
    const session = await this.passwordCheck.attempt(
      address,
      async () => {
        const { account, verified: user } = await this.authenticate(
          parsed,
          password,
          context?.signal,
        );
        if (user === undefined) {
          this.audit.record({ type: 'login_failed', user: account, context });
          return undefined;
        }
        // Only while the password just verified is still the account's: a reset that completed
        // during the comparison must not be outlived by a session opened with the old password.
        const started = await this.sessions.start(user.id, {
          whilePasswordIs: user.hashed_password,
          context,
          account: user,
        });
        if (started === null) {
          this.audit.record({ type: 'login_failed', user, context });
          return undefined;
        }
        return { user, sessionId: started.token };
      },
      context,
    );
    if (session === undefined) return null;
    this.audit.record({ type: 'login_succeeded', user: session.user, context });
    return session;
  }

  /**
   * Opens a new session for the account of `email` (no password asked) and returns its id; null
   * for no account.
   */
  async createSession(email: string): Promise<string | null> {
    const parsed = parseEmail(email);
    const user = parsed === null ? undefined : await this.db.findUserByEmail(parsed);
    return user === undefined
      ? null
      : ((await this.sessions.start(user.id, { account: user }))?.token ?? null);
  }

  /** The user whose live session `sessionId` is; null when absent, unknown or expired. */
  async getUserFromSessionId(sessionId: string | null | undefined): Promise<User | null> {
    return (await this.sessions.validate(sessionId))?.user ?? null;
  }

  /**
   * Logs out: ends live session `sessionId` only, the account's others stay. False when it is
   * not a live session.
   */
  async logout(sessionId: string | null | undefined, context?: RequestContext): Promise<boolean> {
    const found = await this.sessions.validate(sessionId);
    if (found === null) return false;
    await this.sessions.end(found.user, found.session, 'logout', context);
    this.audit.record({ type: 'logout', user: found.user, context });
    return true;
  }

  /** Ends every session of user `userId` (the course's `destroy_session`). */
  async destroySession(userId: number, context?: RequestContext): Promise<void> {
    await this.sessions.endAll({ id: userId }, 'logout', context);
    this.audit.record({ type: 'logout', user: { id: userId }, context });
  }

  /** See {@link SessionManager.listOwn}. */
  listSessions(
    ...args: Parameters<SessionManager['listOwn']>
  ): ReturnType<SessionManager['listOwn']> {
    return this.sessions.listOwn(...args);
  }

  /** See {@link SessionManager.revokeOwn}. */
  revokeSession(
    ...args: Parameters<SessionManager['revokeOwn']>
  ): ReturnType<SessionManager['revokeOwn']> {
    return this.sessions.revokeOwn(...args);
  }

  /** See {@link SessionManager.revokeOthers}. */
  revokeOtherSessions(
    ...args: Parameters<SessionManager['revokeOthers']>
  ): ReturnType<SessionManager['revokeOthers']> {
    return this.sessions.revokeOthers(...args);
  }

  /**
   * Issues a new reset token for the account of `email` (replacing any earlier one) and returns it.
   * Throws {@link UnknownEmailError} when there is no such account.
   */
  async getResetPasswordToken(email: string, context?: RequestContext): Promise<string> {
    const parsed = parseEmail(email);
    const user = parsed === null ? undefined : await this.db.findUserByEmail(parsed);
    this.audit.record({ type: 'password_reset_requested', user, context });
    if (user === undefined) throw new UnknownEmailError();
    return this.issueResetToken(user.id);
  }

  /**
   * Emails a reset link to `email` if it has an account; does nothing otherwise. The work runs in
   * the background after a random delay, so callers answer in the same time whether or not the
   * account exists, and the work that follows does not line up with the answer; {@link drain}
   * awaits it. With throttling on, an account gets at most one email per
   * {@link RESET_EMAIL_COOLDOWN_MS} and `resetEmails.max` per window; at most
   * {@link MAX_PENDING_RESET_EMAILS} wait at once. Throws {@link InvalidEmailError} for a
   * malformed address; delivery failures are logged, never thrown.
   */
  requestPasswordReset(email: string, context?: RequestContext): void {
    const address = this.requireValidEmail(email);
    if (this.backgroundTasks.size >= MAX_PENDING_RESET_EMAILS) {
      this.logger.warn('too many password reset emails waiting; this request was dropped');
      return;
    }
    const task = new Promise((resolve) => setTimeout(resolve, this.backgroundDelayMs()))
      .then(() => this.sendResetEmail(address, context))
      .catch((error: unknown) => {
        this.logger.error({ err: error }, 'password reset email failed');
      });
    this.backgroundTasks.add(task);
    void task.finally(() => this.backgroundTasks.delete(task));
  }

  /**
   * Sets a new password with a reset token, then forgets the token and ends every session of the
   * account (also one being opened with the old password meanwhile).
   * With `email`, the token must also belong to that address. Throws
   * {@link PasswordPolicyError} or {@link InvalidResetTokenError}; of concurrent uses of one token,
   * exactly one succeeds.
   */
  async updatePassword(
    resetToken: string,
    password: string,
    options: { email?: string; context?: RequestContext } = {},
  ): Promise<void> {
    const acceptedPassword = await this.passwordRules.accept(password);
    if (!isUuid(resetToken)) throw new InvalidResetTokenError();
    const tokenDigest = digestToken(resetToken);
    // Check before hashing, so a guessed token costs no bcrypt work; the update below re-checks.
    const user = await this.db.findUser({ reset_token: tokenDigest });
    const now = this.clock.now();
    if (
      user?.reset_token_expires_at == null ||
      user.reset_token_expires_at <= now ||
      (options.email !== undefined && parseEmail(options.email)?.key !== emailKey(user.email))
    ) {
      throw new InvalidResetTokenError();
    }
    const hashedPassword = await this.hasher.hash(acceptedPassword);
    const consumed = await this.db.consumeResetToken({
      userId: user.id,
      tokenDigest,
      hashedPassword,
      now: this.clock.now(),
    });
    if (!consumed) throw new InvalidResetTokenError();
    // After the new hash is in: a login that verified the old one can no longer open a session.
    await this.sessions.endAll(user, 'password_reset', options.context);
    await this.passwordCheck.clear(emailKey(user.email));
    this.audit.record({ type: 'password_reset_completed', user, context: options.context });
  }

  /** See {@link AccountSelfService.changePassword}. */
  changePassword(
    ...args: Parameters<AccountSelfService['changePassword']>
  ): ReturnType<AccountSelfService['changePassword']> {
    return this.selfService.changePassword(...args);
  }

  /** See {@link AccountSelfService.deleteAccount}. */
  deleteAccount(
    ...args: Parameters<AccountSelfService['deleteAccount']>
  ): ReturnType<AccountSelfService['deleteAccount']> {
    return this.selfService.deleteAccount(...args);
  }

  /**
   * Waits for background work (reset emails) to finish and writes pending audit events; for a
   * graceful shutdown, and for tests.
   */
  async drain(): Promise<void> {
    while (this.backgroundTasks.size > 0) await Promise.allSettled([...this.backgroundTasks]);
    await this.audit.flush();
  }

  /** Runs `work` off the caller's path; {@link drain} awaits it, failures are logged. */
  private inBackground(work: () => Promise<void>, failure: string): void {
    const task = work().catch((error: unknown) => {
      this.logger.error({ err: error }, failure);
    });
    this.backgroundTasks.add(task);
    void task.finally(() => this.backgroundTasks.delete(task));
  }

  /**
   * A login with an address that is not one: no account can match, so it is refused after the
   * same password comparison as an unknown address, and recorded like one, but neither looked up
   * nor counted (nothing is stored under it).
   */
  private async refuseMalformedLogin(password: string, context?: RequestContext): Promise<null> {
    await this.authenticate(null, password, context?.signal);
    this.audit.record({ type: 'login_failed', context });
    return null;
  }

  /**
   * The account of `email` if any, and it again as `verified` if `password` is its password. With
   * no email (a malformed one), the dummy comparison alone, as for an unknown address.
   */
  private async authenticate(
    email: EmailAddress | null,
    password: string,
    signal?: AbortSignal,
  ): Promise<{ account?: User; verified?: User }> {
    const candidate = normalizePassword(password);
    const user = email === null ? undefined : await this.db.findUserByEmail(email);
    // A password that could never have been set cannot match; refusing it costs no hash and is
    // the same for every account, so it tells nothing.
    if (unusablePasswordReason(candidate) !== null) return { account: user };
    const hash = user?.hashed_password ?? (await this.dummyHash);
    const matches = await this.hasher.verify(candidate, hash, { signal });
    if (user === undefined || !matches) return { account: user };
    if (this.hasher.needsRehash(user.hashed_password)) {
      const upgraded = await this.hasher.hash(candidate, { signal });
      // Never over a password changed meanwhile.
      if (
        await this.db.compareAndUpdateUser(
          user.id,
          { hashed_password: user.hashed_password },
          { hashed_password: upgraded },
        )
      ) {
        const upgradedUser = { ...user, hashed_password: upgraded };
        return { account: upgradedUser, verified: upgradedUser };
      }
    }
    return { account: user, verified: user };
  }

  private async issueResetToken(userId: number): Promise<string> {
    const token = generateUuid();
    await this.db.updateUser(userId, {
      reset_token: digestToken(token),
      reset_token_expires_at: this.clock.now() + this.settings.resetTokenTtl * 1000,
    });
    return token;
  }

  private async sendResetEmail(address: EmailAddress, context?: RequestContext): Promise<void> {
    const user = await this.db.findUserByEmail(address);
    this.audit.record({ type: 'password_reset_requested', user, context });
    if (user === undefined) return;
    const limit = this.settings.throttling?.resetEmails;
    if (limit !== undefined) {
      const now = this.clock.now();
      // Each counter is one atomic upsert: of requests in parallel, exactly one is first. The
      // minute's is counted first, so requests it refuses do not use up the longer limit.
      const recent = await this.throttles.hit(
        RESET_EMAIL_COOLDOWN,
        user.email,
        now,
        RESET_EMAIL_COOLDOWN_MS,
      );
      if (recent.count > 1) {
        this.logger.info(
          { userId: user.id },
          'password reset email skipped: one sent a minute ago',
        );
        return;
      }
      const counter = await this.throttles.hit(
        RESET_EMAIL,
        user.email,
        now,
        limit.windowSeconds * 1000,
      );
      if (counter.count > limit.max) {
        this.logger.info({ userId: user.id }, 'password reset email skipped: limit reached');
        return;
      }
    }
    const token = await this.issueResetToken(user.id);
    const link = `${this.settings.publicUrl}/reset_password?token=${token}`;
    await this.mailer.send(
      passwordResetMessage({
        to: user.email,
        link,
        validMinutes: Math.round(this.settings.resetTokenTtl / 60),
      }),
    );
  }

  private requireValidEmail(email: string): EmailAddress {
    const parsed = parseEmail(email);
    if (parsed === null) throw new InvalidEmailError('Invalid email address');
    return parsed;
  }
}
