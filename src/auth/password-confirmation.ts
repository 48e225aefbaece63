/**
 * Confirming the account holder before a sensitive change: a live session, and the account's
 * current password checked like a login (the same guarded check and per-address count, counted
 * before the password is checked; a wrong one is audited as a failed login). An account without a
 * password (passkey-only) confirms its holder by a login within {@link RECENT_LOGIN_MS} instead,
 * where {@link confirmOwner} allows it.
 */
import type { Clock } from '../clock.js';
import type { SessionRow, User } from '../db/schema.js';
import type { AuditLog, RequestContext } from './audit.js';
import type { Credentials } from './credentials.js';
import { emailKey } from './email.js';
import { hasPassword } from './passwords.js';
import type { SessionManager } from './sessions.js';

/** How recent a login stands in for the password (passkeys; a passkey-only account). */
export const RECENT_LOGIN_MS = 10 * 60 * 1000;

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
  const found = await deps.sessions.validate(sessionId);
  if (found === null) return 'not_logged_in';
  return checkPassword(deps, found, password, context);
}

/**
 * Why {@link confirmOwner} failed: also no password given for an account that has one, or, for
 * one without, a session older than {@link RECENT_LOGIN_MS}.
 */
export type OwnerRefusal = ConfirmationRefusal | 'password_required' | 'recent_login_required';

/**
 * The live session `sessionId` and its account, when the holder is confirmed: by `password`, as
 * {@link confirmPassword} checks it, for an account with a password; for one without
 * (passkey-only), by the session having been opened within {@link RECENT_LOGIN_MS}, and
 * `password` is not looked at.
 */
export async function confirmOwner(
  deps: ConfirmationDependencies & { readonly clock: Clock },
  sessionId: string | undefined,
  password: string | undefined,
  context?: RequestContext,
): Promise<{ user: User; session: SessionRow } | OwnerRefusal> {
  const found = await deps.sessions.validate(sessionId);
  if (found === null) return 'not_logged_in';
  if (!hasPassword(found.user.hashed_password)) {
    const recent = found.session.created_at > deps.clock.now() - RECENT_LOGIN_MS;
    return recent ? found : 'recent_login_required';
  }
  if (password === undefined || password === '') return 'password_required';
  return checkPassword(deps, found, password, context);
}

async function checkPassword(
  deps: ConfirmationDependencies,
  found: { user: User; session: SessionRow },
  password: string,
  context?: RequestContext,
): Promise<{ user: User; session: SessionRow } | ConfirmationRefusal> {
  const { audit, credentials } = deps;
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
