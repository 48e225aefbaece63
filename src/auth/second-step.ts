/**
 * The second step of a login: a login whose password was right, for an account with its second
 * factor on, gets a challenge instead of a session; the code (TOTP or recovery) that answers the
 * challenge opens the session.
 *
 * Guarantees:
 * - The client holds a random UUID (the challenge token); only its SHA-256 digest is stored. A
 *   challenge lives {@link LOGIN_CHALLENGE_TTL_MS} and takes at most
 *   {@link LOGIN_CHALLENGE_MAX_ATTEMPTS} codes: each is counted in the same statement that checks
 *   the challenge is live, so parallel codes get no more tries. The last wrong one spends it.
 * - Every code is also counted under the account's login throttle (the password's, one
 *   {@link GuardedCheck}): while it is blocked the code is not checked, and the count is cleared
 *   only when a code is right, not when the password was (see login.ts).
 * - One challenge opens at most one session: the success that claims it does, any other (two
 *   different right codes at once) is answered as an expired challenge.
 * - A password reset or change, and turning the factor off or the operator's reset, end the
 *   account's pending challenges ({@link SecondStepLogin.endAllOf}): a challenge is made only
 *   while the password just verified is the account's, and its session opens only while the
 *   challenge is still there, in the same statements, so no login begun before them goes on.
 * - The session records how it was made: `password+totp` or `password+recovery_code`, and so
 *   does its `login_succeeded` event.
 */
import { randomInt } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { DB } from '../db/db.js';
import type { LoginChallenges } from '../db/login-challenges.js';
import type { AuthMethod, User } from '../db/schema.js';
import { accountOf, type Account } from './accounts.js';
import type { AuditLog, RequestContext } from './audit.js';
import type { Credentials } from './credentials.js';
import { emailKey } from './email.js';
import { TooManyAttemptsError } from './errors.js';
import type { SessionManager } from './sessions.js';
import { digestToken, generateUuid, isUuid } from './tokens.js';
import type { SecondFactorMethod, TwoFactor } from './two-factor.js';

/** How long a challenge can be answered (the challenge cookie's lifetime too). */
export const LOGIN_CHALLENGE_TTL_MS = 5 * 60 * 1000;
/** Codes one challenge may be answered with; after as many wrong ones it is spent. */
export const LOGIN_CHALLENGE_MAX_ATTEMPTS = 5;

/**
 * How a second step ended: a new session (its token, to be given to the client once), a wrong
 * code (try again), a challenge that is unknown, expired or spent (start again from the
 * password), or throttled (wait `retryAfterSeconds`).
 */
export type SecondStepOutcome =
  | { readonly outcome: 'logged_in'; readonly account: Account; readonly sessionId: string }
  | { readonly outcome: 'invalid_code' }
  | { readonly outcome: 'expired' }
  | { readonly outcome: 'throttled'; readonly retryAfterSeconds: number };

export interface SecondStepDependencies {
  readonly challenges: LoginChallenges;
  readonly db: DB;
  readonly clock: Clock;
  readonly credentials: Credentials;
  readonly sessions: SessionManager;
  readonly audit: AuditLog;
  readonly twoFactor: TwoFactor;
}

const EXPIRED: SecondStepOutcome = { outcome: 'expired' };
const INVALID: SecondStepOutcome = { outcome: 'invalid_code' };

const METHODS = {
  totp: 'password+totp',
  recovery_code: 'password+recovery_code',
} as const satisfies Record<SecondFactorMethod, AuthMethod>;

export class SecondStepLogin {
  constructor(private readonly deps: SecondStepDependencies) {}

  /** Whether a login of account `userId` needs a second step (its factor is on). */
  async needed(userId: number): Promise<boolean> {
    return (await this.deps.twoFactor.status(userId)).enabled;
  }

  /**
   * A new challenge for account `user`: its token, to be given to the client once; null when the
   * account no longer holds the password hash just verified (a reset or change won meanwhile).
   */
  async challenge(user: Pick<User, 'id' | 'hashed_password'>): Promise<string | null> {
    const { challenges, clock } = this.deps;
    const token = generateUuid();
    const now = clock.now();
    const created = await challenges.create({
      tokenDigest: digestToken(token),
      userId: user.id,
      now,
      expiresAt: now + LOGIN_CHALLENGE_TTL_MS,
      whilePasswordIs: user.hashed_password,
    });
    // Now and then, forget the challenges nobody answered.
    if (randomInt(100) === 0) await challenges.purge(now);
    return created ? token : null;
  }

  /**
   * Answers the challenge `challengeToken` with `code` (see the module's guarantees). A
   * malformed token is an unknown one. Throws {@link TwoFactorUnavailableError} when the factor
   * cannot be checked (no key, or not its key).
   */
  async complete(
    challengeToken: string | null | undefined,
    code: string,
    context?: RequestContext,
  ): Promise<SecondStepOutcome> {
    const { challenges, db, clock, credentials, sessions, audit, twoFactor } = this.deps;
    if (!isUuid(challengeToken)) return EXPIRED;
    const tokenDigest = digestToken(challengeToken);
    const spent = await challenges.spendAttempt(tokenDigest, {
      now: clock.now(),
      most: LOGIN_CHALLENGE_MAX_ATTEMPTS,
    });
    if (spent === undefined) return EXPIRED;
    const user = await db.findUser({ id: spent.userId });
    if (user === undefined) return EXPIRED;
    let method: SecondFactorMethod | undefined;
    try {
      // The password's throttle: a code that is right clears it, a wrong one stays counted.
      method = await credentials.check.attempt(
        user.email_key ?? emailKey(user.email),
        async () =>
          (await twoFactor.verifySecondStep(user.id, code, { user, context })) ?? undefined,
        context,
      );
    } catch (error) {
      if (error instanceof TooManyAttemptsError) {
        return { outcome: 'throttled', retryAfterSeconds: error.retryAfterSeconds };
      }
      throw error;
    }
    if (method === undefined) {
      if (spent.attempts < LOGIN_CHALLENGE_MAX_ATTEMPTS) return INVALID;
      await challenges.delete(tokenDigest);
      return EXPIRED;
    }
    // Claimed, then the session opened only while the claimed challenge is still there, then
    // removed: a reset or change that removed it meanwhile wins, and ends the session otherwise.
    if (!(await challenges.claim(tokenDigest))) return EXPIRED;
    const started = await sessions.start(user.id, {
      authMethod: METHODS[method],
      whileChallengeIs: tokenDigest,
      context,
      account: user,
    });
    await challenges.delete(tokenDigest);
    if (started === null) return EXPIRED;
    audit.record({ type: 'login_succeeded', user, context, authMethod: METHODS[method] });
    return { outcome: 'logged_in', account: accountOf(user), sessionId: started.token };
  }
}
