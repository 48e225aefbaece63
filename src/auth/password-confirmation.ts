/**
 * Confirming the account holder before a sensitive change: a live session, and the account's
 * current password checked like a login (the same guarded check and per-address count, counted
 * before the password is checked; a wrong one is audited as a failed login).
 */
import type { SessionRow, User } from '../db/schema.js';
import type { AuditLog, RequestContext } from './audit.js';
import type { Credentials } from './credentials.js';
import { emailKey } from './email.js';
import type { SessionManager } from './sessions.js';

/** Why a confirmation failed: no live session, or not the account's current password. */
export type ConfirmationRefusal = 'not_logged_in' | 'wrong_password';

export interface ConfirmationDependencies {
  readonly sessions: SessionManager;
  readonly credentials: Credentials;
  readonly audit: AuditLog;
}

/**
 * The live session `sessionId` (the client's token) and its account, as stored after the check,
 * if `password` is the account's. Throws {@link TooManyAttemptsError} while the address is
 * throttled.
 */
export async function confirmPassword(
  deps: ConfirmationDependencies,
  sessionId: string | undefined,
  password: string,
  context?: RequestContext,
): Promise<{ user: User; session: SessionRow } | ConfirmationRefusal> {
  const { audit, credentials } = deps;
  const found = await deps.sessions.validate(sessionId);
  if (found === null) return 'not_logged_in';
  const { user, session } = found;
  // Counted under the address's comparison key, as logins are.
  const verified = await credentials.check.attempt(
    emailKey(user.email),
    () => credentials.verify(user.email, password, context),
    context,
  );
  if (verified === undefined) {
    audit.record({ type: 'login_failed', user, context });
    return 'wrong_password';
  }
  return { user: verified, session };
}
