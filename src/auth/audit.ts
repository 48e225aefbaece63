/**
 * The audit log: every authentication event, with its time, account, client address and user
 * agent, never a password or token (a session event names the session by its public id, a
 * successful login says how its session was authenticated). Events are buffered and written in batches a
 * moment later, off the request's path, so recording one costs a request nothing noticeable;
 * {@link AuditLog.flush} writes what is pending (at shutdown, say). Events older than the
 * retention period are deleted at start and then every hour.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { AuditEvents } from '../db/audit-events.js';
import type { AuthMethod, NewAuditEvent } from '../db/schema.js';

export const AUDIT_EVENT_TYPES = [
  'user_registered',
  'account_invited',
  'login_succeeded',
  'login_failed',
  'login_throttled',
  'logout',
  'password_reset_requested',
  'password_reset_completed',
  'password_changed',
  'sessions_revoked',
  'account_unlocked',
  'account_deleted',
  'session_started',
  'session_ended',
  'totp_enabled',
  'totp_disabled',
  'second_factor_failed',
  'recovery_code_used',
  'recovery_codes_regenerated',
  'password_rehashed',
  'email_verification_sent',
  'email_verified',
  'email_change_requested',
  'email_changed',
  'passkey_added',
  'passkey_removed',
  'passkey_login',
  'passkey_rejected',
  'password_removed',
] as const;
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

/** Why a session ended, as `session_ended` events record it. */
export const SESSION_END_REASONS = [
  'logout',
  'revoked_by_user',
  'revoked_by_operator',
  'over_cap',
  'password_change',
  'password_reset',
  'account_deleted',
  'two_factor_enabled',
  'two_factor_reset',
  'email_changed',
] as const;
export type SessionEndReason = (typeof SESSION_END_REASONS)[number];

/**
 * Why a passkey response was refused, as `passkey_rejected` events record it: not a response,
 * no live challenge of its own, a credential not stored here (or stored already, when adding
 * one), a failed verification (origin, RP ID, signature, user), or a signature counter that went
 * backwards (a possible cloned authenticator).
 */
export type PasskeyRejection =
  | 'malformed'
  | 'challenge'
  | 'unknown_credential'
  | 'known_credential'
  | 'verification'
  | 'counter_regression';

/**
 * Where a request came from, as the HTTP layer (or the CLI) saw it, and its `signal`, aborted
 * once its client has gone (queued password work for it is then dropped). Never recorded.
 */
export interface RequestContext {
  readonly ip?: string;
  readonly userAgent?: string;
  readonly signal?: AbortSignal;
}

export interface AuditEventInput {
  readonly type: AuditEventType;
  readonly user?: { readonly id: number; readonly email?: string } | undefined;
  readonly context?: RequestContext | undefined;
  /** The public id of the session concerned (never its token). */
  readonly sessionId?: string;
  /** Why the session ended (`session_ended`), or a passkey was refused (`passkey_rejected`). */
  readonly reason?: SessionEndReason | PasskeyRejection;
  /** How the login's session was authenticated (`login_succeeded`). */
  readonly authMethod?: AuthMethod;
  /** The address asked for or taken on (`email_change_requested`, `email_changed`). */
  readonly newEmail?: string;
}

/** Events written per statement, and the most kept waiting (beyond it, new ones are dropped). */
const BATCH_SIZE = 200;
const MAX_PENDING = 10_000;
const FLUSH_DELAY_MS = 50;
const RETENTION_SWEEP_MS = 3600 * 1000;
const USER_AGENT_MAX = 512;

export class AuditLog {
  private pending: NewAuditEvent[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly sweepTimer: NodeJS.Timeout;
  private dropped = 0;

  constructor(
    private readonly store: AuditEvents,
    private readonly options: {
      clock: Clock;
      logger: Logger;
      retentionDays: number;
      /** Told of every event as it is recorded (metrics count them). */
      onEvent?: (type: AuditEventType) => void;
    },
  ) {
    void this.sweep();
    this.sweepTimer = setInterval(() => void this.sweep(), RETENTION_SWEEP_MS).unref();
  }

  /** Records an event; it reaches the database within a moment. */
  record(event: AuditEventInput): void {
    this.options.onEvent?.(event.type);
    if (this.pending.length >= MAX_PENDING) {
      this.dropped += 1;
      return;
    }
    this.pending.push({
      at: this.options.clock.now(),
      type: event.type,
      user_id: event.user?.id ?? null,
      email: event.user?.email ?? null,
      ip: event.context?.ip ?? null,
      user_agent: event.context?.userAgent?.slice(0, USER_AGENT_MAX) ?? null,
      session_id: event.sessionId ?? null,
      reason: event.reason ?? null,
      auth_method: event.authMethod ?? null,
      new_email: event.newEmail ?? null,
    });
    this.flushTimer ??= setTimeout(() => void this.flush(), FLUSH_DELAY_MS);
  }

  /** Writes every pending event; resolves when they are stored (or their loss is logged). */
  flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.flushing = this.flushing.then(async () => {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, BATCH_SIZE);
        try {
          await this.store.append(batch);
        } catch (error) {
          this.options.logger.error(
            { err: error, lost: batch.length },
            'audit events could not be written',
          );
        }
      }
      if (this.dropped > 0) {
        this.options.logger.error({ lost: this.dropped }, 'audit events dropped: too many waiting');
        this.dropped = 0;
      }
    });
    return this.flushing;
  }

  /** Writes what is pending and stops the retention sweeps. */
  async close(): Promise<void> {
    clearInterval(this.sweepTimer);
    await this.flush();
  }

  private async sweep(): Promise<void> {
    const cutoff = this.options.clock.now() - this.options.retentionDays * 24 * 3600 * 1000;
    try {
      await this.store.purge(cutoff);
    } catch (error) {
      this.options.logger.warn({ err: error }, 'old audit events could not be deleted');
    }
  }
}
