/**
 * Account self-service, reached through the Auth service: a logged-in user changes their password
 * or deletes their account. Both need a live session and the account's current password (a
 * passkey-only account is deleted after a recent login instead), which is checked like a login: the same guarded check and per-email count (an attempt is counted
 * before the password is checked), the same audit events on failure. A password change ends every
 * session of the account but the one that made it, which carries on under a new token, and every
 * login of the account waiting for its second factor.
 *
 * It stands on the same lower pieces as logins ({@link Credentials}, {@link BackgroundWork}), not
 * on the Auth service that exposes it, and hands out {@link Account} views, never rows.
 */
import type { Clock } from '../clock.js';
import type { DB } from '../db/db.js';
import type { LoginChallenges } from '../db/login-challenges.js';
import type { Mailer } from '../mail/mailer.js';
import { passwordChangedMessage } from '../mail/messages.js';
import { accountOf, type Account } from './accounts.js';
import type { AuditLog, RequestContext } from './audit.js';
import type { BackgroundWork } from './background.js';
import type { Credentials } from './credentials.js';
import {
  confirmOwner,
  confirmPassword,
  type ConfirmationRefusal,
  type OwnerRefusal,
} from './password-confirmation.js';
import type { PasswordHasher, PasswordRules } from './passwords.js';
import type { SessionManager } from './sessions.js';

/**
 * Why account self-service refused: no live session, or not the account's current password; for
 * a deletion also no password given, or a passkey-only account's login not recent enough.
 */
export type SelfServiceRefusal = ConfirmationRefusal | OwnerRefusal;

export interface SelfServiceDependencies {
  readonly db: DB;
  readonly hasher: PasswordHasher;
  readonly clock: Clock;
  readonly mailer: Mailer;
  readonly passwordRules: PasswordRules;
  readonly audit: AuditLog;
  readonly sessions: SessionManager;
  /** Logins waiting for their second factor: a password change ends the account's. */
  readonly challenges: LoginChallenges;
  /** The password checks logins go through too, so both share one count per email. */
  readonly credentials: Credentials;
  /** Where the notice email is sent from, off the caller's path. */
  readonly background: BackgroundWork;
  /** Base of the links put in emails. */
  readonly publicUrl: string;
}

export class AccountSelfService {
  constructor(private readonly deps: SelfServiceDependencies) {}

  /**
   * Changes the password of the user of live session `sessionId`, given the current one. That
   * session carries on (same public id, same times) under a new token, returned to be set as the
   * cookie, the old token stops working; every other session of the account ends. Forgets any
   * pending reset token and emails the account holder. Throws {@link PasswordPolicyError} or
   * {@link TooManyAttemptsError}.
   */
  async changePassword(
    sessionId: string | undefined,
    passwords: { readonly current: string; readonly new: string },
    context?: RequestContext,
  ): Promise<{ account: Account; sessionId: string } | ConfirmationRefusal> {
    const { db, hasher, clock, passwordRules, sessions } = this.deps;
    const confirmed = await confirmPassword(this.deps, sessionId, passwords.current, context);
    if (typeof confirmed === 'string') return confirmed;
    const { user, session } = confirmed;
    const hashedPassword = await hasher.hash(await passwordRules.accept(passwords.new), {
      signal: context?.signal,
    });
    // Only over the session and password just checked: a concurrent logout, reset or change wins.
    // The session's token is replaced first (while the old password holds), then the password,
    // then the other sessions end: a login that verified the old password meanwhile either opened
    // its session before the new password was in, and that session ends here, or opened none.
    const newSessionId = await sessions.renew(session, user.hashed_password);
    if (newSessionId === null) return 'not_logged_in';
    const changed = await db.compareAndUpdateUser(
      user.id,
      { hashed_password: user.hashed_password },
      { hashed_password: hashedPassword, reset_token: null, reset_token_expires_at: null },
    );
    if (!changed) return 'not_logged_in';
    await this.deps.challenges.deleteAllOf(user.id);
    await sessions.endAllBut(user, session.id, 'password_change', context);
    const now = clock.now();
    this.deps.audit.record({ type: 'password_changed', user, context });
    const message = passwordChangedMessage({
      to: user.email,
      at: new Date(now),
      resetLink: `${this.deps.publicUrl}/forgot`,
    });
    this.deps.background.run(() => this.deps.mailer.send(message), 'password change email failed');
    return { account: accountOf(user), sessionId: newSessionId };
  }

  /**
   * Deletes the account of live session `sessionId`, given its password, or, for an account
   * without one (passkey-only), when the session was opened within the last ten minutes
   * ({@link confirmOwner}); all its sessions end with it (its audit trail stays). Returns the
   * deleted account. Throws {@link TooManyAttemptsError}.
   */
  async deleteAccount(
    sessionId: string | undefined,
    password: string | undefined,
    context?: RequestContext,
  ): Promise<Account | OwnerRefusal> {
    const confirmed = await confirmOwner(this.deps, sessionId, password, context);
    if (typeof confirmed === 'string') return confirmed;
    const { user } = confirmed;
    // Ended first, each recorded; any opened meanwhile goes with the account (ON DELETE CASCADE).
    await this.deps.sessions.endAll(user, 'account_deleted', context);
    if (!(await this.deps.db.deleteUser(user.id))) return 'not_logged_in';
    this.deps.audit.record({ type: 'account_deleted', user, context });
    return accountOf(user);
  }
}
