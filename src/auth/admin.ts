/**
 * Account administration, for operators (the `bienvenue` command): list and inspect accounts,
 * delete one, set a password, end sessions, lift login throttling, read the audit trail. Like the
 * Auth service it is the only way in: the CLI never touches the database itself. Every change is
 * recorded in the audit log.
 */
import type { Clock } from '../clock.js';
import type { AuditEvents } from '../db/audit-events.js';
import type { DB } from '../db/db.js';
import type { User } from '../db/schema.js';
import type { Throttles } from '../db/throttles.js';
import type { AuditEventType, AuditLog, RequestContext } from './audit.js';
import { emailKey, parseEmail } from './email.js';
import { UnknownEmailError, UnknownSessionError } from './errors.js';
import type { PasswordHasher, PasswordRules } from './passwords.js';
import { LOGIN } from './rules.js';
import type { SessionManager, SessionView } from './sessions.js';

/** What an operator sees of an account: never a hash, a session id or a token. */
export interface AccountSummary {
  readonly id: number;
  readonly email: string;
  readonly createdAt: string;
  /** Whether the account's address is proven (EMAIL_VERIFICATION). */
  readonly emailVerified: boolean;
  readonly sessionActive: boolean;
  readonly resetPending: boolean;
  readonly failedLogins: number;
  readonly loginBlockedUntil: string | null;
}

export interface AuditEventView {
  readonly id: number;
  readonly at: string;
  readonly type: string;
  readonly userId: number | null;
  readonly email: string | null;
  readonly ip: string | null;
  readonly userAgent: string | null;
  /** The public id of the session concerned (session events). */
  readonly sessionId: string | null;
  /** Why the session ended (session_ended). */
  readonly reason: string | null;
  /** How the login's session was authenticated (login_succeeded). */
  readonly authMethod: string | null;
  /** The address asked for or taken on (email_change_requested, email_changed). */
  readonly newEmail: string | null;
}

export interface AccountAdminDependencies {
  readonly db: DB;
  readonly throttles: Throttles;
  readonly auditEvents: AuditEvents;
  readonly audit: AuditLog;
  readonly hasher: PasswordHasher;
  readonly passwordRules: PasswordRules;
  readonly clock: Clock;
  readonly sessions: SessionManager;
}

export class AccountAdmin {
  constructor(private readonly deps: AccountAdminDependencies) {}

  async listUsers(options: { limit: number; offset: number }): Promise<AccountSummary[]> {
    const users = await this.deps.db.listUsers(options);
    return Promise.all(users.map((user) => this.summarize(user)));
  }

  /** Throws {@link UnknownEmailError} when there is no such account. */
  async showUser(email: string): Promise<AccountSummary> {
    return this.summarize(await this.account(email));
  }

  /** Deletes the account and so its sessions (its audit trail stays). */
  async deleteUser(email: string, context?: RequestContext): Promise<void> {
    const user = await this.account(email);
    // Ended first, each recorded; any opened meanwhile goes with the account (ON DELETE CASCADE).
    await this.deps.sessions.endAll(user, 'account_deleted', context);
    await this.deps.db.deleteUser(user.id);
    await this.deps.throttles.clear(LOGIN, emailKey(user.email));
    this.record('account_deleted', user, context);
  }

  /** Sets a new password (the usual rules apply), ends every session, lifts login throttling. */
  async setPassword(email: string, password: string, context?: RequestContext): Promise<void> {
    const user = await this.account(email);
    const accepted = await this.deps.passwordRules.accept(password);
    const hashed = await this.deps.hasher.hash(accepted);
    await this.deps.db.updateUser(user.id, {
      hashed_password: hashed,
      reset_token: null,
      reset_token_expires_at: null,
    });
    await this.deps.sessions.endAll(user, 'password_change', context);
    await this.deps.throttles.clear(LOGIN, emailKey(user.email));
    this.record('password_changed', user, context);
  }

  /**
   * Ends every session of the account or, with `id`, that one only. Throws
   * {@link UnknownEmailError}, or {@link UnknownSessionError} when `id` is not one of the
   * account's live sessions.
   */
  async revokeSessions(
    email: string,
    options: { id?: string | undefined; context?: RequestContext } = {},
  ): Promise<number> {
    const { id, context } = options;
    const user = await this.account(email);
    let ended: number;
    if (id === undefined) {
      ended = await this.deps.sessions.endAll(user, 'revoked_by_operator', context);
    } else {
      const live = (await this.deps.sessions.liveOf(user.id)).some((session) => session.id === id);
      if (!live || !(await this.deps.sessions.end(user, { id }, 'revoked_by_operator', context)))
        throw new UnknownSessionError();
      ended = 1;
    }
    this.record('sessions_revoked', user, context);
    return ended;
  }

  /** The account's live sessions, most recently seen first. */
  async sessionsOf(email: string): Promise<SessionView[]> {
    return this.deps.sessions.viewsOf((await this.account(email)).id);
  }

  /**
   * Marks the account's address as verified (the operator vouches for it); false, and nothing
   * recorded, when it was already.
   */
  async verifyEmail(email: string, context?: RequestContext): Promise<boolean> {
    const user = await this.account(email);
    const verified = await this.deps.db.compareAndUpdateUser(
      user.id,
      { email: user.email, email_verified_at: null },
      { email_verified_at: this.deps.clock.now() },
    );
    if (verified) this.record('email_verified', user, context);
    return verified;
  }

  /** Forgets the account's failed logins, so it may log in at once. */
  async unlock(email: string, context?: RequestContext): Promise<void> {
    const user = await this.account(email);
    await this.deps.throttles.clear(LOGIN, emailKey(user.email));
    this.record('account_unlocked', user, context);
  }

  /** Recent audit events, newest first, of one account (by email) and/or one type. */
  async events(filters: {
    email?: string;
    type?: AuditEventType;
    limit: number;
  }): Promise<AuditEventView[]> {
    await this.deps.audit.flush();
    let userId: number | undefined;
    if (filters.email !== undefined) userId = (await this.account(filters.email)).id;
    const rows = await this.deps.auditEvents.list({
      limit: filters.limit,
      ...(userId !== undefined && { userId }),
      ...(filters.type !== undefined && { type: filters.type }),
    });
    return rows.map((row) => ({
      id: row.id,
      at: new Date(row.at).toISOString(),
      type: row.type,
      userId: row.user_id,
      email: row.email,
      ip: row.ip,
      userAgent: row.user_agent,
      sessionId: row.session_id,
      reason: row.reason,
      authMethod: row.auth_method,
      newEmail: row.new_email,
    }));
  }

  /** The account `email` names, compared as at login; a malformed address names none. */
  private async account(email: string): Promise<User> {
    const parsed = parseEmail(email);
    const user = parsed === null ? undefined : await this.deps.db.findUserByEmail(parsed);
    if (user === undefined) throw new UnknownEmailError();
    return user;
  }

  private async summarize(user: User): Promise<AccountSummary> {
    const now = this.deps.clock.now();
    const throttle = await this.deps.throttles.get(LOGIN, emailKey(user.email));
    const blocked = throttle?.blocked_until ?? null;
    return {
      id: user.id,
      email: user.email,
      createdAt: new Date(user.created_at).toISOString(),
      emailVerified: user.email_verified_at !== null,
      sessionActive: (await this.deps.sessions.liveOf(user.id)).length > 0,
      resetPending: user.reset_token_expires_at !== null && user.reset_token_expires_at > now,
      failedLogins: throttle?.count ?? 0,
      loginBlockedUntil: blocked !== null && blocked > now ? new Date(blocked).toISOString() : null,
    };
  }

  private record(type: AuditEventType, user: User, context?: RequestContext): void {
    this.deps.audit.record({ type, user, context });
  }
}
