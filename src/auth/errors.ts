/**
 * The Auth service's refusals that are thrown. They say what went wrong in the user's terms, and
 * each names its stable code (`refusal`), an entry of the catalogue in `http/refusals.ts`, which
 * gives it its status; they know nothing of HTTP. An expected "no" (wrong password, unknown
 * session) is a returned outcome, not one of these.
 */

/** The database cannot serve now (raised by the data layer; part of this catalogue too). */
export { DatabaseUnavailableError } from '../db/errors.js';

/**
 * A refusal is an answer, not a fault: nothing shows where it was raised, so none captures a
 * stack trace, which took 8% of the CPU time of answering a request without a session.
 */
export abstract class AuthError extends Error {
  /** The refusal's stable code (see `http/refusals.ts`). */
  abstract readonly refusal: string;
  constructor(message: string) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.name = new.target.name;
  }
}

/**
 * The base of a refusal that says no more than its code and its fixed message: a class that
 * extends `plainRefusal(code, message)` needs no body, and keeps its own name.
 */
function plainRefusal<const Code extends string>(refusal: Code, message: string) {
  return class extends AuthError {
    readonly refusal = refusal;
    constructor() {
      super(message);
    }
  };
}

/** `registerUser` with an email that already has an account. */
export class UserAlreadyExistsError extends AuthError {
  readonly refusal = 'email_taken';
  constructor(readonly email: string) {
    super(`User ${email} already exists`);
  }
}

/** A sign-up while SIGNUP=closed: accounts come only from the operator (`bienvenue users invite`). */
export class SignUpClosedError extends plainRefusal(
  'signup_closed',
  'Sign-up is closed: accounts are created by invitation only',
) {}

/**
 * A sign-up whose address is outside SIGNUP_EMAIL_DOMAINS; thrown before the address is looked
 * up, so it is the same whether or not the address has an account.
 */
export class SignUpDomainNotAllowedError extends plainRefusal(
  'signup_domain_not_allowed',
  'Sign-up is not open to addresses of this domain',
) {}

/** Why an email address is refused, as a stable code (`code` in the JSON of the answer). */
export type EmailRefusalCode =
  'invalid_email' | 'email_mixed_scripts' | 'email_disallowed_character';

/**
 * An email address that cannot be delivered to (`invalid_email`), or that may not have a new
 * account because it mixes scripts or holds a character refused at sign-up.
 */
export class InvalidEmailError extends AuthError {
  get refusal(): EmailRefusalCode {
    return this.code;
  }
  constructor(
    message: string,
    readonly code: EmailRefusalCode = 'invalid_email',
  ) {
    super(message);
  }
}

/** A password that breaks the policy; the message says which rule. */
export class PasswordPolicyError extends AuthError {
  readonly refusal = 'password_refused';
}

/** `getResetPasswordToken` for an email that has no account. */
export class UnknownEmailError extends plainRefusal('unknown_email', 'No user with that email') {}

/** A reset token that is malformed, unknown, expired, used, or not the given email's. */
export class InvalidResetTokenError extends plainRefusal(
  'invalid_reset_token',
  'Invalid or expired reset token',
) {}

/** Too many attempts: the caller must wait `retryAfterSeconds` before trying again. */
export class TooManyAttemptsError extends AuthError {
  readonly refusal = 'too_many_attempts';
  constructor(readonly retryAfterSeconds: number) {
    super(`Too many attempts: try again in ${retryAfterSeconds} seconds`);
  }
}

/**
 * More work is waiting for a password check than the service takes on at once: the caller should
 * retry in `retryAfterSeconds`. Nothing was done.
 */
export class BusyError extends AuthError {
  readonly refusal = 'busy';
  constructor(readonly retryAfterSeconds: number) {
    super('The service is busy: please retry shortly');
  }
}

/** The client went away before the work it asked for began, so it was dropped undone. */
export class RequestAbandonedError extends plainRefusal(
  'client_gone',
  'The client closed the request before it was served',
) {}

/** A session id that is not one of the account's live sessions (or of any account). */
export class UnknownSessionError extends plainRefusal('not_found', 'No such session') {}

/** A request that needs a live session came without one. */
export class SessionRequiredError extends plainRefusal('session_required', 'Forbidden') {}

/**
 * Two-factor authentication needs the service's key (SECRET_KEY), and none is configured, or the
 * stored secret does not open with the one configured.
 */
export class TwoFactorUnavailableError extends AuthError {
  readonly refusal = 'two_factor_unavailable';
  constructor(options?: { cause?: unknown }) {
    super('Two-factor authentication is not available on this server');
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

/** A verification or address-change token that is malformed, unknown, used or expired. */
export class InvalidEmailTokenError extends plainRefusal(
  'invalid_token',
  'This link is invalid, has expired or was already used',
) {}

/**
 * An address change confirmed while another account holds the new address (it took it since the
 * change was asked for): nothing changed.
 */
export class EmailUnavailableError extends plainRefusal(
  'email_unavailable',
  'This address belongs to another account now: nothing changed',
) {}

/** An address change to the account's own address. */
export class EmailUnchangedError extends plainRefusal(
  'email_unchanged',
  'This is already the account’s address',
) {}
