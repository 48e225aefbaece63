/**
 * Guarded checks: a secret check (a password, later a second factor) that attackers could repeat
 * to guess, counted per subject (a normalized email) in the database, so every instance sees the
 * same count.
 *
 * Guarantees:
 * - An attempt is counted before the secret is checked, in the same atomic statement that decides
 *   whether it may proceed ({@link Throttles.attempt}). An attempt still in flight therefore
 *   counts as a failure until it is proven right, and no number of parallel attempts gets more
 *   than `freeAttempts` checks past a subject's block.
 * - After `freeAttempts` counted attempts, each further one blocks the subject for a while: 1 s,
 *   then doubling up to `maxDelaySeconds`, never for good. While blocked, attempts are refused
 *   with {@link TooManyAttemptsError} without the check running (so without any hashing).
 * - A successful check clears the count (unless the caller says that result is not yet a success:
 *   a right password still waiting for its second factor); a failed one leaves it as counted.
 * - Unknown subjects (emails with no account) are counted exactly like real ones.
 */
import { randomInt } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Throttles } from '../db/throttles.js';
import type { RequestContext } from './audit.js';
import { TooManyAttemptsError } from './errors.js';

/** A streak of attempts is forgotten this long after its first one. */
const STREAK_MS = 24 * 3600 * 1000;

export interface GuardedCheckSettings {
  /** Attempts counted before each further one must wait. */
  readonly freeAttempts: number;
  /** The longest such wait, in seconds (the wait doubles up to it). */
  readonly maxDelaySeconds: number;
}

export interface GuardedCheckDependencies {
  readonly throttles: Throttles;
  readonly clock: Clock;
  /** What is counted (the throttles row kind): `login` for passwords. */
  readonly kind: string;
  /** No counting at all when undefined. */
  readonly settings: GuardedCheckSettings | undefined;
  /** Told of every refused attempt, before it is refused (for the audit log). */
  readonly onRefused?: (subject: string, context?: RequestContext) => Promise<void>;
}

export class GuardedCheck {
  constructor(private readonly deps: GuardedCheckDependencies) {}

  /**
   * Counts an attempt at `subject`, then runs `check` unless the subject is blocked: returns what
   * `check` returns, `undefined` meaning the check failed. A result other than `undefined` clears
   * the count, unless `options.clears` says it does not (then the attempt stays counted, as a
   * failure would). Throws {@link TooManyAttemptsError} while blocked, `check` not having run.
   */
  async attempt<T>(
    subject: string,
    check: () => Promise<T | undefined>,
    context?: RequestContext,
    options: { readonly clears?: (result: T) => boolean } = {},
  ): Promise<T | undefined> {
    const { settings, throttles, clock } = this.deps;
    if (settings === undefined) return check();
    const now = clock.now();
    const decision = await throttles.attempt(this.deps.kind, subject, {
      now,
      windowMs: STREAK_MS,
      freeAttempts: settings.freeAttempts,
      maxDelayMs: settings.maxDelaySeconds * 1000,
    });
    if (!decision.allowed) {
      await this.deps.onRefused?.(subject, context);
      throw new TooManyAttemptsError(Math.ceil(decision.retryAfterMs / 1000));
    }
    // Now and then, forget streaks that ended long ago (those of unknown emails included).
    if (randomInt(100) === 0) await throttles.purge(now - STREAK_MS, now);
    const result = await check();
    if (result !== undefined && (options.clears?.(result) ?? true)) await this.clear(subject);
    return result;
  }

  /** Forgets the attempts at `subject` (after a success elsewhere: a reset, a new password). */
  async clear(subject: string): Promise<void> {
    if (this.deps.settings !== undefined) await this.deps.throttles.clear(this.deps.kind, subject);
  }
}
