/**
 * Sessions, for the Auth service: starting, validating and ending them. Every session write goes
 * through here to the sessions repository (db/sessions.ts).
 *
 * Guarantees:
 * - The client holds a random UUID (the token); only its SHA-256 digest is stored. Each session
 *   also has a public id, random and never derived from the token.
 * - An account has several sessions, at most `sessionsPerUser`: opening one more ends the least
 *   recently seen (with a cap of one, a new login ends the previous session, as in the course).
 * - A session is live until the first of: `sessionTtl` after it began, `sessionIdleTtl` after its
 *   last recorded activity, and its end (logout, password change or reset, account deletion,
 *   an operator's revocation, the cap).
 * - Checking a session is one indexed read; its activity is written back at most every
 *   {@link MAX_SESSION_REFRESH_INTERVAL_MS}, so reading a session is rarely a write.
 */
import type { Clock } from '../clock.js';
import type { Liveness, Sessions, SessionWithAccount } from '../db/sessions.js';
import {
  SESSION_IP_MAX,
  SESSION_USER_AGENT_MAX,
  type AuthMethod,
  type SessionRow,
} from '../db/schema.js';
import type { AuditLog, RequestContext, SessionEndReason } from './audit.js';
import { digestToken, generateSessionPublicId, generateUuid, isUuid } from './tokens.js';

/** Durations in seconds. */
export interface SessionSettings {
  readonly sessionTtl: number;
  readonly sessionIdleTtl: number;
  /** Most sessions one account holds at once. */
  readonly sessionsPerUser: number;
}

/** A session just opened: its token, to be given to the client once, and its public id. */
export interface StartedSession {
  readonly token: string;
  readonly id: string;
}

/** What a user (or an operator) sees of a session: never its token or the token's digest. */
export interface SessionView {
  /** The public id, to name the session in requests. */
  readonly id: string;
  readonly createdAt: Date;
  readonly lastSeenAt: Date;
  readonly expiresAt: Date;
  readonly ip: string | null;
  readonly userAgent: string | null;
  /** How it was authenticated: the password alone, or with which second factor. */
  readonly authMethod: AuthMethod;
  /** Whether it is the session of the caller. */
  readonly current: boolean;
}

/** Why a user's request about their sessions was refused: no live session, or no such session. */
export type SessionRefusal = 'not_logged_in' | 'not_found';

/** An account, as the session events name it. */
type AccountRef = { readonly id: number; readonly email?: string };

/** Activity is written back at most this often, so that reading a session is not a write. */
export const MAX_SESSION_REFRESH_INTERVAL_MS = 5 * 60 * 1000;

export class SessionManager {
  private readonly refreshIntervalMs: number;

  constructor(
    private readonly sessions: Sessions,
    private readonly clock: Clock,
    private readonly settings: SessionSettings,
    /** Where session events are recorded; none when absent (benchmark seeding). */
    private readonly audit?: AuditLog,
  ) {
    this.refreshIntervalMs = Math.min(
      MAX_SESSION_REFRESH_INTERVAL_MS,
      (settings.sessionIdleTtl * 1000) / 2,
    );
  }

  /**
   * Opens a new session for account `userId`, leaving its others alone but for the cap, and
   * returns it; null when the account is gone or, with `whilePasswordIs`, no longer holds that
   * password hash, or, with `whileChallengeIs`, the login challenge of that token digest is gone
   * (checked in the same statement that opens the session).
   */
  async start(
    userId: number,
    options: {
      whilePasswordIs?: string;
      whileChallengeIs?: string;
      authMethod?: AuthMethod;
      context?: RequestContext | undefined;
      /** The account's email, for the audit events. */
      account?: { readonly email: string };
    } = {},
  ): Promise<StartedSession | null> {
    const token = generateUuid();
    const id = generateSessionPublicId();
    const now = this.clock.now();
    // Opened and kept within the cap in one transaction: a login commits once.
    const ended = await this.sessions.openWithinCap(
      {
        id,
        user_id: userId,
        token_digest: digestToken(token),
        created_at: now,
        last_seen_at: now,
        expires_at: now + this.settings.sessionTtl * 1000,
        ip: options.context?.ip?.slice(0, SESSION_IP_MAX) ?? null,
        user_agent: options.context?.userAgent?.slice(0, SESSION_USER_AGENT_MAX) ?? null,
        auth_method: options.authMethod ?? 'password',
      },
      {
        ...(options.whilePasswordIs !== undefined && { whilePasswordIs: options.whilePasswordIs }),
        ...(options.whileChallengeIs !== undefined && {
          whileChallengeIs: options.whileChallengeIs,
        }),
      },
      { most: this.settings.sessionsPerUser, liveness: this.liveness(now) },
    );
    if (ended === null) return null;
    const user = {
      id: userId,
      ...(options.account?.email !== undefined && { email: options.account.email }),
    };
    this.audit?.record({ type: 'session_started', user, context: options.context, sessionId: id });
    this.recordEnded(user, ended.overCap, 'over_cap', options.context);
    return { token, id };
  }

  /**
   * The live session whose token is `token`, with its account; null when absent, malformed,
   * unknown or over. Records activity when the last recorded one is old enough.
   */
  async validate(token: string | null | undefined): Promise<SessionWithAccount | null> {
    if (!isUuid(token)) return null;
    const tokenDigest = digestToken(token);
    const found = await this.sessions.findWithAccount(tokenDigest);
    const now = this.clock.now();
    if (found === undefined || !this.isLive(found.session, now)) return null;
    if (now - found.session.last_seen_at >= this.refreshIntervalMs) {
      await this.sessions.touch(tokenDigest, now);
    }
    return found;
  }

  /**
   * Gives live session `current` a new token, only while its account still holds password hash
   * `whilePasswordIs`; the session keeps its id and times, the old token stops working. Returns
   * the new token, or null when the session or that password is gone.
   */
  async renew(current: SessionRow, whilePasswordIs: string): Promise<string | null> {
    const token = generateUuid();
    const renewed = await this.sessions.replaceToken({
      id: current.id,
      userId: current.user_id,
      fromDigest: current.token_digest,
      toDigest: digestToken(token),
      whilePasswordIs,
    });
    return renewed ? token : null;
  }

  /**
   * Ends session `session` of account `user` (found live by {@link validate}), for `reason`;
   * false when it had ended already.
   */
  async end(
    user: AccountRef,
    session: Pick<SessionRow, 'id'>,
    reason: SessionEndReason,
    context?: RequestContext,
  ): Promise<boolean> {
    const ended = await this.sessions.deleteOneOf(user.id, session.id);
    if (ended) this.recordEnded(user, [session.id], reason, context);
    return ended;
  }

  /** Ends every session of account `user`, for `reason`; returns how many there were. */
  async endAll(
    user: AccountRef,
    reason: SessionEndReason,
    context?: RequestContext,
  ): Promise<number> {
    const ended = await this.sessions.deleteAllOf(user.id);
    this.recordEnded(user, ended, reason, context);
    return ended.length;
  }

  /** Ends every session of account `user` but session `keepId`; returns how many ended. */
  async endAllBut(
    user: AccountRef,
    keepId: string,
    reason: SessionEndReason,
    context?: RequestContext,
  ): Promise<number> {
    const ended = await this.sessions.deleteAllOfBut(user.id, keepId);
    this.recordEnded(user, ended, reason, context);
    return ended.length;
  }

  /** The live sessions of account `userId`, most recently seen first. */
  async liveOf(userId: number): Promise<SessionRow[]> {
    const now = this.clock.now();
    return (await this.sessions.listOf(userId)).filter((session) => this.isLive(session, now));
  }

  /** The live sessions of account `userId` as views, most recently seen first. */
  async viewsOf(userId: number, currentId?: string): Promise<SessionView[]> {
    return (await this.liveOf(userId)).map((row) => ({
      id: row.id,
      createdAt: new Date(row.created_at),
      lastSeenAt: new Date(row.last_seen_at),
      // When it ends unless used again: the first of its end, its idle end and today's TTL.
      expiresAt: new Date(
        Math.min(
          row.expires_at,
          row.last_seen_at + this.settings.sessionIdleTtl * 1000,
          row.created_at + this.settings.sessionTtl * 1000,
        ),
      ),
      ip: row.ip,
      userAgent: row.user_agent,
      authMethod: row.auth_method,
      current: row.id === currentId,
    }));
  }

  /**
   * The live sessions of the caller's account (by the caller's token), theirs marked current,
   * and the time they were read at.
   */
  async listOwn(
    token: string | null | undefined,
  ): Promise<{ sessions: SessionView[]; at: Date } | 'not_logged_in'> {
    const found = await this.validate(token);
    if (found === null) return 'not_logged_in';
    const at = new Date(this.clock.now());
    return { sessions: await this.viewsOf(found.user.id, found.session.id), at };
  }

  /**
   * Ends live session `id` of the caller's account (the caller's own included: a logout), as
   * revoked by the user. `not_found` for any id that is not one of the account's live sessions:
   * another account's session is never ended, nor told apart from one that does not exist.
   */
  async revokeOwn(
    token: string | null | undefined,
    id: string,
    context?: RequestContext,
  ): Promise<{ endedCurrent: boolean } | SessionRefusal> {
    const found = await this.validate(token);
    if (found === null) return 'not_logged_in';
    const target = (await this.liveOf(found.user.id)).find((session) => session.id === id);
    if (target === undefined) return 'not_found';
    const endedCurrent = target.id === found.session.id;
    if (!(await this.end(found.user, target, endedCurrent ? 'logout' : 'revoked_by_user', context)))
      return 'not_found';
    return { endedCurrent };
  }

  /** Ends every session of the caller's account but the caller's; returns how many ended. */
  async revokeOthers(
    token: string | null | undefined,
    context?: RequestContext,
  ): Promise<number | 'not_logged_in'> {
    const found = await this.validate(token);
    if (found === null) return 'not_logged_in';
    return this.endAllBut(found.user, found.session.id, 'revoked_by_user', context);
  }

  /** Whether `session` is live at `now` (see the module's guarantees). */
  isLive(
    session: Pick<SessionRow, 'created_at' | 'last_seen_at' | 'expires_at'>,
    now: number,
  ): boolean {
    const { startedAfter, seenAfter } = this.liveness(now);
    return (
      now < session.expires_at &&
      session.created_at > startedAfter &&
      session.last_seen_at > seenAfter
    );
  }

  private recordEnded(
    user: AccountRef,
    ids: readonly string[],
    reason: SessionEndReason,
    context: RequestContext | undefined,
  ): void {
    for (const sessionId of ids)
      this.audit?.record({ type: 'session_ended', user, context, sessionId, reason });
  }

  private liveness(now: number): Liveness {
    return {
      now,
      seenAfter: now - this.settings.sessionIdleTtl * 1000,
      // A SESSION_TTL shortened since a session began applies to it too.
      startedAfter: now - this.settings.sessionTtl * 1000,
    };
  }
}
