/** Small rules shared by the Auth service and account administration. */
import type { User } from '../db/schema.js';

/** Kinds of counters in the throttles table. */
export const LOGIN = 'login';
export const RESET_EMAIL = 'reset_email';
/** One a minute per account, beside the longer `RESET_EMAIL` window. */
export const RESET_EMAIL_COOLDOWN = 'reset_email_minute';

/**
 * Whether `user` has a session that is live at `now`: one began less than `sessionTtl` seconds
 * ago, with activity recorded less than `sessionIdleTtl` seconds ago.
 */
export function sessionIsLive(
  user: Pick<User, 'session_id' | 'session_created_at' | 'session_seen_at'>,
  now: number,
  settings: { readonly sessionTtl: number; readonly sessionIdleTtl: number },
): boolean {
  return (
    user.session_id !== null &&
    user.session_created_at !== null &&
    user.session_seen_at !== null &&
    now < user.session_created_at + settings.sessionTtl * 1000 &&
    now < user.session_seen_at + settings.sessionIdleTtl * 1000
  );
}
