/** Small rules shared by the Auth service and account administration. */

/** Kinds of counters in the throttles table. */
export const LOGIN = 'login';
export const RESET_EMAIL = 'reset_email';
/** One a minute per account, beside the longer `RESET_EMAIL` window. */
export const RESET_EMAIL_COOLDOWN = 'reset_email_minute';
