/**
 * The one place that turns errors into HTTP answers. Domain errors map through a table; client
 * errors raised by Fastify (bad JSON, wrong content type, oversized body, schema violations) keep
 * their 4xx status with a readable message; anything else is logged with the request id and
 * answered with a generic 500 that reveals nothing of the failure.
 *
 * Every error body carries a stable snake_case `code` for programs (the message is for people and
 * may change), except the course's exact `{"message": "email already registered"}`.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import {
  AuthError,
  BusyError,
  DatabaseUnavailableError,
  InvalidEmailError,
  InvalidResetTokenError,
  PasswordPolicyError,
  RequestAbandonedError,
  SessionRequiredError,
  TooManyAttemptsError,
  UnknownSessionError,
  UnknownEmailError,
  UserAlreadyExistsError,
} from '../auth/errors.js';

type AuthErrorClass = abstract new (...args: never[]) => AuthError;

/**
 * Status and stable `code` of each domain error. Errors that tell the client to wait (429, 503)
 * also get Retry-After, from their `retryAfterSeconds`.
 */
const DOMAIN_ERRORS: ReadonlyArray<readonly [AuthErrorClass, number, string]> = [
  [InvalidEmailError, 400, 'invalid_email'],
  [PasswordPolicyError, 400, 'password_refused'],
  [UnknownEmailError, 403, 'unknown_email'],
  [InvalidResetTokenError, 403, 'invalid_reset_token'],
  [SessionRequiredError, 403, 'session_required'],
  [UnknownSessionError, 404, 'not_found'],
  [TooManyAttemptsError, 429, 'too_many_attempts'],
  [BusyError, 503, 'busy'],
  // The client is gone: nobody reads this answer; 499 (as proxies log it) keeps it out of 5xx.
  [RequestAbandonedError, 499, 'client_gone'],
];

/** Codes of Fastify's client errors that say more than their status. */
const FASTIFY_CODES: Readonly<Record<string, string>> = {
  // Proto poisoning (a `__proto__` key) is refused with this one too.
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'empty_json_body',
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_BAD_URL: 'malformed_url',
};

/**
 * A request over its client's rate limit (raised by the rate-limit hook): 429 with code
 * `rate_limited`; the hook sets Retry-After itself.
 */
export class RateLimitedError extends Error {
  readonly statusCode = 429;
  constructor(readonly retryAfter: string) {
    super(`Too many requests: try again in ${retryAfter}`);
    this.name = 'RateLimitedError';
  }
}

/** What a 503 tells clients to wait before retrying. */
const RETRY_AFTER_SECONDS = 5;

export interface ErrorAnswer {
  readonly status: number;
  readonly body: { message: string; code?: string; requestId?: string };
}

/**
 * The code of an answer with `status` when nothing more precise is known: the status's name in
 * snake_case (`bad_request`, `payload_too_large`, `too_many_requests`…).
 */
export function codeForStatus(status: number): string {
  const name = STATUS_CODES[status] ?? (status < 500 ? 'client error' : 'server error');
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '');
}

/** An error of the HTTP layer that names its own code (body encodings, cross-site refusals). */
export interface CodedError {
  readonly statusCode: number;
  readonly answerCode: string;
}

/** What to answer for `error` thrown while serving `request`. */
export function answerFor(error: unknown, request: FastifyRequest): ErrorAnswer {
  // The course's client expects this body exactly, so it alone carries no request id.
  if (error instanceof UserAlreadyExistsError) {
    return { status: 400, body: { message: 'email already registered' } };
  }
  const requestId = request.id;
  if (error instanceof DatabaseUnavailableError) {
    return {
      status: 503,
      body: {
        message: 'Service temporarily unavailable, please retry',
        code: 'service_unavailable',
        requestId,
      },
    };
  }
  if (error instanceof AuthError) {
    for (const [errorClass, status, code] of DOMAIN_ERRORS) {
      if (error instanceof errorClass) {
        // An email refusal says which one (`email_mixed_scripts`…) in its own code.
        const ownCode = error instanceof InvalidEmailError ? error.code : code;
        return { status, body: { message: error.message, code: ownCode, requestId } };
      }
    }
  }
  if (error instanceof RateLimitedError) {
    return { status: 429, body: { message: error.message, code: 'rate_limited', requestId } };
  }
  if (isFastifyError(error) && error.validation !== undefined) {
    return { status: 400, body: { ...describeValidation(error), requestId } };
  }
  // Client errors raised by Fastify and its plugins (bad JSON, 413, 415, rate limits…).
  const status = clientErrorStatus(error);
  if (status !== undefined) {
    const message = (error as Error).message;
    return { status, body: { message, code: clientErrorCode(error, status), requestId } };
  }
  return {
    status: 500,
    body: { message: 'Internal server error', code: 'internal_error', requestId },
  };
}

/** The code of a client error: its own, `malformed_json` for JSON syntax, else the status's. */
function clientErrorCode(error: unknown, status: number): string {
  if (error instanceof Error && 'answerCode' in error && typeof error.answerCode === 'string') {
    return error.answerCode;
  }
  if (isFastifyError(error)) {
    const code = FASTIFY_CODES[error.code];
    if (code !== undefined) return code;
  }
  return codeForStatus(status);
}

/** Sends an error answer; JSON by default, the web pages render it as a page. */
export type ErrorRenderer = (reply: FastifyReply, answer: ErrorAnswer) => void;

const sendJson: ErrorRenderer = (reply, answer) => void reply.send(answer.body);

/** Fastify error handler: answers with {@link answerFor}, logging whatever becomes a 500. */
export function handleError(
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
  render: ErrorRenderer = sendJson,
): void {
  const { status, body } = answerFor(error, request);
  if (error instanceof BusyError) {
    request.log.warn('request refused: too many password checks waiting');
    void reply.header('retry-after', String(error.retryAfterSeconds));
  } else if (status === 503) {
    request.log.warn({ err: error }, 'request failed: database unavailable');
    void reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  } else if (status >= 500) {
    request.log.error({ err: error }, 'request failed');
  } else if (error instanceof TooManyAttemptsError) {
    void reply.header('retry-after', String(error.retryAfterSeconds));
  }
  render(reply.code(status), { status, body });
}

function clientErrorStatus(error: unknown): number | undefined {
  if (!(error instanceof Error) || !('statusCode' in error)) return undefined;
  const { statusCode } = error;
  return typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500
    ? statusCode
    : undefined;
}

function isFastifyError(error: unknown): error is FastifyError {
  return error instanceof Error && 'code' in error && typeof error.code === 'string';
}

/** A sentence about the first schema violation, in terms of form fields, and its code. */
function describeValidation(error: FastifyError): { message: string; code: string } {
  const [first] = error.validation ?? [];
  if (first === undefined) return { message: 'Invalid request', code: 'invalid_request' };
  const field = first.instancePath.replace(/^\//, '');
  const { params } = first;
  switch (first.keyword) {
    case 'required':
      return {
        message: `Missing field: ${String(params.missingProperty)}`,
        code: 'missing_field',
      };
    case 'type':
      return field === ''
        ? { message: 'The request body must be a form or a JSON object', code: 'body_not_object' }
        : { message: `Field ${field} must be given once, as text`, code: 'field_not_text' };
    case 'minLength':
      return { message: `Field ${field} must not be empty`, code: 'empty_field' };
    case 'maxLength':
      return { message: `Field ${field} is too long`, code: 'field_too_long' };
    default:
      return { message: `Invalid field ${field || 'body'}`, code: 'invalid_field' };
  }
}
