/**
 * The longest text each form field may hold, the same for the API (its JSON schemas) and the web
 * pages (their forms, in the browser and on the server): longer input is refused before it
 * reaches the Auth service.
 */

/** Characters at most in an email field (what a mailbox may spell out, with room to trim). */
export const EMAIL_MAX_LENGTH = 320;
/** Characters at most in a password field (the policy's own limits, PASSWORD_MAX_LENGTH and bcrypt's 72 bytes, are lower). */
export const PASSWORD_MAX_LENGTH = 1024;
/** Characters at most in a reset token field (a UUID is 36). */
export const TOKEN_MAX_LENGTH = 64;

/** Characters at most in a two-factor code field (six digits, or a recovery code with spaces). */
export const CODE_MAX_LENGTH = 64;

/**
 * The limit of a field by its name: emails, the token, a two-factor code, and every other field
 * is a password.
 */
export function maxLengthOf(name: string): number {
  if (name === 'email' || name === 'new_email') return EMAIL_MAX_LENGTH;
  if (name === 'code') return CODE_MAX_LENGTH;
  if (name === 'token' || name === 'reset_token') return TOKEN_MAX_LENGTH;
  return PASSWORD_MAX_LENGTH;
}
