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
import type { RequestContext } from './audit.js';
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

/** Activity is written back at most this often, so that reading a session is not a write. */
export const MAX_SESSION_REFRESH_INTERVAL_MS = 5 * 60 * 1000;

export class SessionManager {
  private readonly refreshIntervalMs: number;

  constructor(
    private readonly sessions: Sessions,
    private readonly clock: Clock,
    private readonly settings: SessionSettings,
  ) {
    this.refreshIntervalMs = Math.min(
      MAX_SESSION_REFRESH_INTERVAL_MS,
      (settings.sessionIdleTtl * 1000) / 2,
    );
  }

  /**
   * Opens a new session for account `userId`, leaving its others alone but for the cap, and
   * returns it; null when the account is gone or, with `whilePasswordIs`, no longer holds that
   * password hash (checked in the same statement that opens the session).
   */
  async start(
    userId: number,
    options: {
      whilePasswordIs?: string;
      authMethod?: AuthMethod;
      context?: RequestContext | undefined;
    } = {},
  ): Promise<StartedSession | null> {
    const token = generateUuid();
    const id = generateSessionPublicId();
    const now = this.clock.now();
    const created = await this.sessions.create(
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
      options.whilePasswordIs === undefined ? {} : { whilePasswordIs: options.whilePasswordIs },
    );
    if (!created) return null;
    await this.sessions.enforceCap({
      userId,
      keepId: id,
      most: this.settings.sessionsPerUser,
      liveness: this.liveness(now),
    });
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

  /** Ends the session whose token is `token`; false when there was none. */
  async end(token: string): Promise<boolean> {
    return isUuid(token) && this.sessions.delete(digestToken(token));
  }

  /** Ends every session of account `userId`; returns how many there were. */
  endAll(userId: number): Promise<number> {
    return this.sessions.deleteAllOf(userId);
  }

  /** Ends every session of account `userId` but session `keepId`; returns how many ended. */
  endAllBut(userId: number, keepId: string): Promise<number> {
    return this.sessions.deleteAllOfBut(userId, keepId);
  }

  /** The live sessions of account `userId`, most recently seen first. */
  async liveOf(userId: number): Promise<SessionRow[]> {
    const now = this.clock.now();
    return (await this.sessions.listOf(userId)).filter((session) => this.isLive(session, now));
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

  private liveness(now: number): Liveness {
    return {
      now,
      seenAfter: now - this.settings.sessionIdleTtl * 1000,
      // A SESSION_TTL shortened since a session began applies to it too.
      startedAfter: now - this.settings.sessionTtl * 1000,
    };
  }
}
