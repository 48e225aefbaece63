/**
 * Account self-service, reached through the Auth service: a logged-in user changes their password
 * or deletes their account. Both need a live session and the account's current password, which
 * is checked like a login: the same guarded check and per-email count (an attempt is counted
 * before the password is checked), the same audit events on failure.
 */
import type { Clock } from '../clock.js';
import type { DB } from '../db/db.js';
import type { User } from '../db/schema.js';
import type { Mailer } from '../mail/mailer.js';
import { passwordChangedMessage } from '../mail/messages.js';
import type { AuditLog, RequestContext } from './audit.js';
import { emailKey } from './email.js';
import type { GuardedCheck } from './guarded-check.js';
import type { PasswordHasher, PasswordRules } from './passwords.js';
import { digestToken, generateUuid } from './tokens.js';

/** Why account self-service refused: no live session, or not the account's current password. */
export type SelfServiceRefusal = 'not_logged_in' | 'wrong_password';

export interface SelfServiceDependencies {
  readonly db: DB;
  readonly hasher: PasswordHasher;
  readonly clock: Clock;
  readonly mailer: Mailer;
  readonly passwordRules: PasswordRules;
  readonly audit: AuditLog;
  /** The guarded check that logins go through too, so both share one count per email. */
  readonly passwordCheck: GuardedCheck;
  /** Base of the links put in emails. */
  readonly publicUrl: string;
  /** The user of live session `sessionId`, or null. */
  userOfSession(sessionId: string | undefined): Promise<User | null>;
  /** The account of `email`, as stored after the check, if `password` is its password. */
  verify(email: string, password: string, signal?: AbortSignal): Promise<User | undefined>;
  /** Runs `work` off the caller's path (awaited at shutdown); failures are logged. */
  inBackground(work: () => Promise<void>, failure: string): void;
}

export class AccountSelfService {
  constructor(private readonly deps: SelfServiceDependencies) {}

  /**
   * Changes the password of the user of live session `sessionId`, given the current one. Starts
   * a new session (the old one ends), forgets any pending reset token and emails the account
   * holder. Throws {@link PasswordPolicyError} or {@link TooManyAttemptsError}.
   */
  async changePassword(
    sessionId: string | undefined,
    passwords: { readonly current: string; readonly new: string },
    context?: RequestContext,
  ): Promise<{ user: User; sessionId: string } | SelfServiceRefusal> {
    const { db, hasher, clock, passwordRules } = this.deps;
    const user = await this.confirmPassword(sessionId, passwords.current, context);
    if (typeof user === 'string') return user;
    const hashedPassword = await hasher.hash(await passwordRules.accept(passwords.new), {
      signal: context?.signal,
    });
    const newSessionId = generateUuid();
    const now = clock.now();
    // Only over the session and password just checked: a concurrent logout, reset or change wins.
    const changed = await db.compareAndUpdateUser(
      user.id,
      { hashed_password: user.hashed_password, session_id: user.session_id },
      {
        hashed_password: hashedPassword,
        reset_token: null,
        reset_token_expires_at: null,
        session_id: digestToken(newSessionId),
        session_created_at: now,
        session_seen_at: now,
      },
    );
    if (!changed) return 'not_logged_in';
    this.deps.audit.record({ type: 'password_changed', user, context });
    const message = passwordChangedMessage({
      to: user.email,
      at: new Date(now),
      resetLink: `${this.deps.publicUrl}/forgot`,
    });
    this.deps.inBackground(() => this.deps.mailer.send(message), 'password change email failed');
    return { user: { ...user, hashed_password: hashedPassword }, sessionId: newSessionId };
  }

  /**
   * Deletes the account of live session `sessionId`, given its password; its session ends with
   * it (its audit trail stays). Returns the deleted user. Throws {@link TooManyAttemptsError}.
   */
  async deleteAccount(
    sessionId: string | undefined,
    password: string,
    context?: RequestContext,
  ): Promise<User | SelfServiceRefusal> {
    const user = await this.confirmPassword(sessionId, password, context);
    if (typeof user === 'string') return user;
    if (!(await this.deps.db.deleteUser(user.id))) return 'not_logged_in';
    this.deps.audit.record({ type: 'account_deleted', user, context });
    return user;
  }

  /** The user of live session `sessionId` if `password` is theirs; checked like a login. */
  private async confirmPassword(
    sessionId: string | undefined,
    password: string,
    context?: RequestContext,
  ): Promise<User | SelfServiceRefusal> {
    const { audit, passwordCheck } = this.deps;
    const user = await this.deps.userOfSession(sessionId);
    if (user === null) return 'not_logged_in';
    // Counted under the address's comparison key, as logins are.
    const verified = await passwordCheck.attempt(
      emailKey(user.email),
      () => this.deps.verify(user.email, password, context?.signal),
      context,
    );
    if (verified === undefined) {
      audit.record({ type: 'login_failed', user, context });
      return 'wrong_password';
    }
    return verified;
  }
}
