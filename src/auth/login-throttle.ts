/**
 * Login throttling, per email: failed password checks (logins, and the password confirmations of
 * account self-service) are counted in the database, so every instance sees the same count; after
 * `loginAfter` of them each further attempt must wait, the wait doubling up to
 * `loginMaxDelaySeconds`. Unknown emails are counted exactly like real ones.
 */
import { randomInt } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { DB } from '../db/db.js';
import type { Throttles } from '../db/throttles.js';
import type { AuditLog, RequestContext } from './audit.js';
import { TooManyAttemptsError } from './errors.js';
import { LOGIN } from './rules.js';

/** A streak of failed logins is forgotten this long after its first failure. */
const LOGIN_STREAK_MS = 24 * 3600 * 1000;

export interface LoginThrottleDependencies {
  readonly db: DB;
  readonly throttles: Throttles;
  readonly clock: Clock;
  readonly audit: AuditLog;
  /** No throttling at all when undefined. */
  readonly settings:
    { readonly loginAfter: number; readonly loginMaxDelaySeconds: number } | undefined;
}

export class LoginThrottle {
  constructor(private readonly deps: LoginThrottleDependencies) {}

  /**
   * Throws {@link TooManyAttemptsError} (and records `login_throttled`) while `address` must
   * wait, without any password being checked.
   */
  async refuseWhileThrottled(address: string, context?: RequestContext): Promise<void> {
    if (!this.deps.settings) return;
    const counter = await this.deps.throttles.get(LOGIN, address);
    const now = this.deps.clock.now();
    if (counter?.blocked_until != null && counter.blocked_until > now) {
      const account = await this.deps.db.findUser({ email_key: address });
      this.deps.audit.record({ type: 'login_throttled', user: account, context });
      throw new TooManyAttemptsError(Math.ceil((counter.blocked_until - now) / 1000));
    }
  }

  /** Counts a failed password check of `address`, and makes the next attempt wait if due. */
  async recordFailure(address: string): Promise<void> {
    const settings = this.deps.settings;
    if (!settings) return;
    const now = this.deps.clock.now();
    const counter = await this.deps.throttles.hit(LOGIN, address, now, LOGIN_STREAK_MS);
    if (counter.count >= settings.loginAfter) {
      const delaySeconds = Math.min(
        2 ** Math.min(counter.count - settings.loginAfter, 30),
        settings.loginMaxDelaySeconds,
      );
      await this.deps.throttles.blockUntil(LOGIN, address, now + delaySeconds * 1000);
    }
    // Now and then, forget streaks that ended long ago (failures for unknown emails included).
    if (randomInt(100) === 0) await this.deps.throttles.purge(now - LOGIN_STREAK_MS, now);
  }

  /** Forgets the failures of `address` (after a successful check or a new password). */
  async clear(address: string): Promise<void> {
    if (this.deps.settings) await this.deps.throttles.clear(LOGIN, address);
  }
}
