/**
 * Logging in, as a flow with named outcomes: each front end (the API, the pages) translates
 * every outcome once, and a new step (a second factor) is a new outcome, not a new exception.
 *
 * Guarantees:
 * - The credentials are checked by {@link Credentials}: the same cost for an unknown, malformed or
 *   known address, one count per address key. While that address is throttled the outcome is
 *   `throttled`, and the password is not checked.
 * - A new session opens only while the password just verified is still the account's, and
 *   leaves the account's other sessions alone (but for the cap, see auth/sessions.ts).
 * - With EMAIL_VERIFICATION=required, a right password of an account whose address is not proven
 *   opens nothing: the outcome is `email_not_verified`, given only once the password proved right.
 * - Every attempt is audited: `login_succeeded` (with how its session was authenticated),
 *   `login_failed` or `login_throttled`.
 * - With the account's second factor on, a right password opens no session: the outcome is
 *   `second_factor_required` with a challenge (second-step.ts), and the attempt stays counted
 *   under the throttle until a code answers the challenge. Clearing the count at the password
 *   would let whoever knows it try codes without end, a few per challenge, challenge after
 *   challenge. A wrong password is answered as without a second factor, so the second step is
 *   only offered to whoever knows the password.
 */
import { accountOf, type Account } from './accounts.js';
import type { AuditLog, RequestContext } from './audit.js';
import type { Credentials } from './credentials.js';
import { parseEmail } from './email.js';
import { TooManyAttemptsError } from './errors.js';
import type { SecondStepLogin } from './second-step.js';
import type { EmailVerification } from './addresses/index.js';
import type { SessionManager } from './sessions.js';

/**
 * How a login ended: a new session (its token, to be given to the client once), the second
 * factor required (the challenge's token, to be given to the client once, for
 * {@link SecondStepLogin.complete}), refused (wrong or unknown email or password, alike), or
 * throttled (wait `retryAfterSeconds`).
 */
export type LoginOutcome =
  | { readonly outcome: 'logged_in'; readonly account: Account; readonly sessionId: string }
  | { readonly outcome: 'second_factor_required'; readonly challengeToken: string }
  | { readonly outcome: 'refused' }
  | { readonly outcome: 'email_not_verified'; readonly email: string }
  | { readonly outcome: 'throttled'; readonly retryAfterSeconds: number };

export interface LoginDependencies {
  readonly credentials: Credentials;
  readonly sessions: SessionManager;
  readonly audit: AuditLog;
  readonly secondStep: SecondStepLogin;
  /** Whether an account may not log in before its address is proven (EMAIL_VERIFICATION). */
  readonly verification: Pick<EmailVerification, 'blocksLogin'>;
}

/** What a right password leads to: a session, or a challenge for the second factor. */
type Passed =
  | { readonly account: Account; readonly sessionId: string }
  | { readonly challengeToken: string }
  | { readonly unverified: string };

const REFUSED: LoginOutcome = { outcome: 'refused' };

export class LoginFlow {
  constructor(private readonly deps: LoginDependencies) {}

  /**
   * Checks the credentials and, when they are right, opens a new session. Throws
   * {@link BusyError} when too many checks wait already, and {@link RequestAbandonedError} when
   * `context.signal` aborted before the check began: the service could not serve, which is no
   * outcome of the login.
   */
  async logIn(email: string, password: string, context?: RequestContext): Promise<LoginOutcome> {
    const { credentials, sessions, audit, secondStep } = this.deps;
    const parsed = parseEmail(email);
    if (parsed === null) {
      // No account can match: refused after the same comparison as an unknown address, and
      // recorded like one, but neither looked up nor counted (nothing is stored under it).
      await credentials.authenticate(null, password, context);
      audit.record({ type: 'login_failed', context });
      return REFUSED;
    }
    let passed: Passed | undefined;
    try {
      // Counted per comparison key: look-alikes of an address share its count. A check that
      // returns undefined failed, and stays counted.
      passed = await credentials.check.attempt(
        parsed.key,
        async () => {
          const { account, verified: user } = await credentials.authenticate(
            parsed,
            password,
            context,
          );
          if (user === undefined) {
            audit.record({ type: 'login_failed', user: account, context });
            return undefined;
          }
          // After the password proved right, so that neither the answer nor its time tells an
          // outsider whether the account is verified.
          if (this.deps.verification.blocksLogin(user)) {
            audit.record({ type: 'login_failed', user, context });
            return { unverified: user.email };
          }
          if (await secondStep.needed(user.id)) {
            const challengeToken = await secondStep.challenge(user);
            if (challengeToken === null) {
              audit.record({ type: 'login_failed', user, context });
              return undefined;
            }
            return { challengeToken };
          }
          // Only while the password just verified is still the account's: a reset that completed
          // during the comparison must not be outlived by a session opened with the old password.
          const started = await sessions.start(user.id, {
            whilePasswordIs: user.hashed_password,
            context,
            account: user,
          });
          if (started === null) {
            audit.record({ type: 'login_failed', user, context });
            return undefined;
          }
          return { account: accountOf(user), sessionId: started.token };
        },
        context,
        // A right password with a code still to come is no success yet (see the guarantees).
        { clears: (result) => !('challengeToken' in result) },
      );
    } catch (error) {
      if (error instanceof TooManyAttemptsError) {
        return { outcome: 'throttled', retryAfterSeconds: error.retryAfterSeconds };
      }
      throw error;
    }
    if (passed === undefined) return REFUSED;
    if ('unverified' in passed) return { outcome: 'email_not_verified', email: passed.unverified };
    if ('challengeToken' in passed) {
      return { outcome: 'second_factor_required', challengeToken: passed.challengeToken };
    }
    audit.record({
      type: 'login_succeeded',
      user: passed.account,
      context,
      authMethod: 'password',
    });
    return { outcome: 'logged_in', ...passed };
  }
}
