/**
 * The catalogue of refusals: every "no" the service answers, thrown or returned, from the Auth
 * service or from the HTTP layer, is one entry here with its stable machine `code`, its status,
 * the message it says by default, and what it means (the README's table and the OpenAPI
 * document's enum of codes are checked against this list). `errors.ts` is the one place that
 * turns a refusal into an answer; handlers throw a {@link Refusal} instead of answering.
 *
 * Codes are for programs and never change once published; messages are for people and may.
 */

/** One refusal: its status, default message, and what it means (for the README). */
export interface RefusalEntry {
  readonly status: number;
  readonly message: string;
  readonly meaning: string;
  /** Whether the answer tells the client when to retry (`Retry-After`). */
  readonly retryAfter?: true;
  /** The course's exact body: the message alone, without `code` or `requestId`. */
  readonly courseBody?: true;
}

/** Every refusal, by code. */
export const REFUSALS = {
  // The Auth service's refusals (auth/errors.ts and the outcomes of its flows).
  email_taken: {
    status: 400,
    message: 'email already registered',
    meaning: 'sign-up with an email that has an account; the course’s exact body, without `code`',
    courseBody: true,
  },
  signup_closed: {
    status: 403,
    message: 'Sign-up is closed',
    meaning: 'sign-up while `SIGNUP=closed` (accounts come by `bienvenue users invite`)',
  },
  signup_domain_not_allowed: {
    status: 403,
    message: 'Sign-up is not open to this email domain',
    meaning: 'sign-up outside `SIGNUP_EMAIL_DOMAINS`, whether or not the address has an account',
  },
  invalid_email: {
    status: 400,
    message: 'Invalid email address',
    meaning: 'the email address cannot be delivered to',
  },
  email_mixed_scripts: {
    status: 400,
    message: 'This email address mixes scripts',
    meaning: 'a new account’s email mixes scripts beyond what UTS #39 allows',
  },
  email_disallowed_character: {
    status: 400,
    message: 'This email address holds a character refused at sign-up',
    meaning: 'a new account’s email holds a character refused at sign-up',
  },
  password_refused: {
    status: 400,
    message: 'This password is refused',
    meaning: 'the password breaks the policy; the message says which rule',
  },
  invalid_credentials: {
    status: 401,
    message: 'wrong email or password',
    meaning: 'a login with an unknown email or a wrong password',
  },
  wrong_password: {
    status: 401,
    message: 'wrong password',
    meaning: 'the account’s password, required for this change, is not the one given',
  },
  second_factor_required: {
    status: 401,
    message: 'second factor required',
    meaning:
      'the password was right, a code is needed (`POST /sessions/second-factor`); 403 from forward auth for a host that asks for a second factor',
  },
  second_factor_expired: {
    status: 401,
    message: 'The login expired: log in again with your password',
    meaning:
      'a second step without a live challenge (`bienvenue_2fa` missing, unknown, over 5 minutes old, or spent by 5 wrong codes)',
  },
  session_required: {
    status: 403,
    message: 'Forbidden',
    meaning:
      'no live session (the `session_id` cookie is missing, unknown or expired); 401 from forward auth',
  },
  access_denied: {
    status: 403,
    message: 'This account may not use this host',
    meaning: 'forward auth: logged in, but the access rules leave this account out of the host',
  },
  unknown_email: {
    status: 403,
    message: 'No user with that email',
    meaning: 'a reset token asked for an email that has no account (RESET_TOKEN_IN_RESPONSE)',
  },
  invalid_reset_token: {
    status: 403,
    message: 'Invalid or expired reset token',
    meaning: 'the reset token is malformed, unknown, expired, used, or not the email’s',
  },
  too_many_attempts: {
    status: 429,
    message: 'Too many attempts',
    meaning: 'too many failed logins for this email: wait for `Retry-After`',
    retryAfter: true,
  },
  busy: {
    status: 503,
    message: 'The service is busy: please retry shortly',
    meaning: 'too many password checks wait already: retry after `Retry-After`',
    retryAfter: true,
  },
  two_factor_unavailable: {
    status: 503,
    message: 'Two-factor authentication is not available on this server',
    meaning:
      'two-factor authentication while the server has no secret key (PostgreSQL without `SECRET_KEY`), or not the one the stored secrets were sealed with',
  },
  invalid_code: {
    status: 400,
    message: 'This code is not right',
    meaning:
      'a two-factor code (from the authenticator app, or a recovery code) that is malformed, wrong, or used already',
  },
  two_factor_already_enabled: {
    status: 409,
    message: 'Two-factor authentication is on already',
    meaning: 'turning two-factor authentication on while it is on (turn it off first)',
  },
  two_factor_not_pending: {
    status: 409,
    message: 'There is no two-factor authentication to confirm',
    meaning: 'confirming two-factor authentication that was not begun (or is confirmed already)',
  },
  two_factor_not_enabled: {
    status: 409,
    message: 'Two-factor authentication is not on',
    meaning: 'turning two-factor authentication off, or new recovery codes, while it is not on',
  },
  invalid_token: {
    status: 400,
    message: 'This link is invalid, has expired or was already used',
    meaning:
      'a verification or address-change token that is malformed, unknown, used or past `EMAIL_VERIFICATION_TTL`',
  },
  email_not_verified: {
    status: 403,
    message: 'This email address is not verified yet',
    meaning:
      'with `EMAIL_VERIFICATION=required`, a login with the right password (or a passkey) of an account whose address is not proven; adding a passkey before the address is proven (unless `EMAIL_VERIFICATION=off`); from forward auth, a host whose rule says `email_verified: true`',
  },
  email_unavailable: {
    status: 409,
    message: 'This address belongs to another account now: nothing changed',
    meaning: 'an address change confirmed after another account took the new address',
  },
  email_unchanged: {
    status: 400,
    message: 'This is already the account’s address',
    meaning: 'an address change to the account’s own address',
  },
  passkey_rejected: {
    status: 401,
    message: 'This passkey was not accepted',
    meaning:
      'a passkey response that does not verify (challenge, origin, RP ID, signature, counter)',
  },
  recent_login_required: {
    status: 403,
    message: 'Log in again, or give your password, to do this',
    meaning:
      'adding a passkey or removing the password with a session over 10 minutes old and no password, or changing the address of a passkey-only account or deleting it with such a session',
  },
  passkey_required: {
    status: 409,
    message: 'Add a passkey before removing the password',
    meaning: 'removing the password of an account that has no passkey',
  },
  no_password: {
    status: 409,
    message: 'This account has no password',
    meaning: 'removing the password of an account that has none (a reset by email sets one)',
  },
  client_gone: {
    status: 499,
    message: 'The client closed the request before it was served',
    meaning: 'the client left before its work began (only seen in logs)',
  },
  // The HTTP layer's refusals.
  rate_limited: {
    status: 429,
    message: 'Too many requests',
    meaning: 'over this client’s rate limit for the action: wait for `Retry-After`',
    retryAfter: true,
  },
  cross_site_request: {
    status: 403,
    message: 'Cross-site request refused',
    meaning: 'a state-changing request a browser marks as cross-site',
  },
  not_found: { status: 404, message: 'Not found', meaning: 'no such route' },
  forward_headers_missing: {
    status: 400,
    message: 'The proxy did not say which request it asks about',
    meaning: 'forward auth without the original request’s headers, or with malformed ones',
  },
  missing_field: { status: 400, message: 'Missing field', meaning: 'a required field is absent' },
  field_not_text: {
    status: 400,
    message: 'A field must be given once, as text',
    meaning: 'a field is repeated or not text',
  },
  empty_field: { status: 400, message: 'A field is empty', meaning: 'a field is empty' },
  field_too_long: {
    status: 400,
    message: 'A field is too long',
    meaning: 'a field is longer than allowed',
  },
  invalid_field: { status: 400, message: 'Invalid field', meaning: 'a field is invalid' },
  invalid_request: { status: 400, message: 'Invalid request', meaning: 'the request is invalid' },
  body_not_object: {
    status: 400,
    message: 'The request body must be a form or a JSON object',
    meaning: 'the body is neither a form nor a JSON object',
  },
  malformed_json: { status: 400, message: 'Malformed JSON', meaning: 'the JSON body is broken' },
  empty_json_body: {
    status: 400,
    message: 'Empty JSON body',
    meaning: 'a JSON content type with no body',
  },
  duplicate_json_key: {
    status: 400,
    message: 'A JSON key is given twice',
    meaning: 'a key repeated within one JSON object, at any depth',
  },
  malformed_form: {
    status: 400,
    message: 'The form is not valid percent-encoded UTF-8',
    meaning: 'the urlencoded body is not valid',
  },
  malformed_multipart: {
    status: 400,
    message: 'Malformed multipart body',
    meaning: 'the multipart body is not valid',
  },
  field_name_too_long: {
    status: 400,
    message: 'A field name is too long',
    meaning: 'a multipart field name is too long',
  },
  file_upload_refused: {
    status: 400,
    message: 'File uploads are not accepted',
    meaning: 'a multipart body holds a file',
  },
  too_many_fields: {
    status: 413,
    message: 'Too many fields',
    meaning: 'a form with more than 16 fields',
  },
  body_too_large: {
    status: 413,
    message: 'Request body is too large',
    meaning: 'a body over 16 KiB',
  },
  unsupported_media_type: {
    status: 415,
    message: 'Unsupported media type',
    meaning: 'a content type other than a form or JSON',
  },
  malformed_url: { status: 400, message: 'Malformed URL', meaning: 'the URL cannot be decoded' },
  bad_request: {
    status: 400,
    message: 'Malformed HTTP request',
    meaning: 'a request the HTTP parser refuses, or another malformed request',
  },
  request_timeout: {
    status: 408,
    message: 'The request was not received in time',
    meaning: 'a request not received in full within `REQUEST_TIMEOUT`',
  },
  request_header_fields_too_large: {
    status: 431,
    message: 'The request headers are too large',
    meaning: 'request headers over 16 KiB',
  },
  client_error: {
    status: 400,
    message: 'Bad request',
    meaning: 'any other client error; its status and message say which',
  },
  // Failures, not refusals, but answered the same way.
  service_unavailable: {
    status: 503,
    message: 'Service temporarily unavailable, please retry',
    meaning: 'the database cannot serve now: retry after `Retry-After`',
    retryAfter: true,
  },
  internal_error: {
    status: 500,
    message: 'Internal server error',
    meaning: 'an unexpected failure (logged with the request id)',
  },
} as const satisfies Readonly<Record<string, RefusalEntry>>;

/** A refusal's stable code. */
export type RefusalCode = keyof typeof REFUSALS;

/** Every code, in the catalogue's order (the OpenAPI document's enum). */
export const REFUSAL_CODES = Object.keys(REFUSALS) as readonly RefusalCode[];

/**
 * The JSON schema of every error answer: what went wrong, its stable code, and the request id to
 * find it in the logs (only the course's exact `{"message": "email already registered"}` has
 * neither).
 */
export const ERROR_SCHEMA = {
  type: 'object',
  required: ['message'],
  properties: {
    message: { type: 'string' },
    code: {
      type: 'string',
      enum: REFUSAL_CODES,
      description: 'the refusal’s stable code (see the README’s table of codes)',
    },
    requestId: { type: 'string' },
  },
} as const;

/** Whether `code` is one of the catalogue's. */
export function isRefusalCode(code: string): code is RefusalCode {
  return Object.hasOwn(REFUSALS, code);
}

/**
 * A refusal raised by the HTTP layer (a handler, a hook, a body parser): `errors.ts` answers it
 * with its catalogue entry. `statusCode` is there for Fastify, which keeps errors that carry one.
 * Like the Auth service's refusals (auth/errors.ts), it captures no stack trace.
 */
export class Refusal extends Error {
  readonly statusCode: number;
  constructor(
    readonly refusal: RefusalCode,
    message: string = REFUSALS[refusal].message,
    /** For refusals that tell when to retry. */
    readonly retryAfterSeconds?: number,
    /** A status other than the catalogue's, for a code answered differently by one route. */
    options: { readonly status?: number } = {},
  ) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.name = 'Refusal';
    this.statusCode = options.status ?? REFUSALS[refusal].status;
  }
}
