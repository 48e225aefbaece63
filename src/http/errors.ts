/**
 * The one place that turns errors into HTTP answers. Domain errors map through a table; client
 * errors raised by Fastify (bad JSON, wrong content type, oversized body, schema violations) keep
 * their 4xx status with a readable message; anything else is logged with the request id and
 * answered with a generic 500 that reveals nothing of the failure.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import {
  AuthError,
  BusyError,
  DatabaseUnavailableError,
  InvalidEmailError,
  InvalidResetTokenError,
  PasswordPolicyError,
  RequestAbandonedError,
  TooManyAttemptsError,
  UnknownEmailError,
  UserAlreadyExistsError,
} from '../auth/errors.js';

type AuthErrorClass = abstract new (...args: never[]) => AuthError;

/**
 * Status, and where fixed, the stable `code` and body message of each domain error. Errors that
 * tell the client to wait (429, 503) also get Retry-After, from their `retryAfterSeconds`.
 */
const DOMAIN_ERRORS: ReadonlyArray<
  readonly [AuthErrorClass, number, { code?: string; message?: string }?]
> = [
  [InvalidEmailError, 400],
  [PasswordPolicyError, 400],
  [UnknownEmailError, 403],
  [InvalidResetTokenError, 403],
  [TooManyAttemptsError, 429, { code: 'too_many_attempts' }],
  [BusyError, 503, { code: 'busy' }],
  // The client is gone: nobody reads this answer; 499 (as proxies log it) keeps it out of 5xx.
  [RequestAbandonedError, 499, { code: 'client_gone' }],
];

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
  /** `code`, where present, is stable: clients may branch on it (the message may change). */
  readonly body: { message: string; code?: string; requestId?: string };
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
      body: { message: 'Service temporarily unavailable, please retry', requestId },
    };
  }
  if (error instanceof AuthError) {
    for (const [errorClass, status, fixed] of DOMAIN_ERRORS) {
      if (error instanceof errorClass) {
        const message = fixed?.message ?? error.message;
        return { status, body: { message, ...(fixed?.code && { code: fixed.code }), requestId } };
      }
    }
  }
  if (error instanceof RateLimitedError) {
    return { status: 429, body: { message: error.message, code: 'rate_limited', requestId } };
  }
  if (isFastifyError(error) && error.validation !== undefined) {
    return { status: 400, body: { message: describeValidation(error), requestId } };
  }
  // Client errors raised by Fastify and its plugins (bad JSON, 413, 415, rate limits…).
  const status = clientErrorStatus(error);
  if (status !== undefined) {
    return { status, body: { message: (error as Error).message, requestId } };
  }
  return { status: 500, body: { message: 'Internal server error', requestId } };
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

/** A sentence about the first schema violation, in terms of form fields. */
function describeValidation(error: FastifyError): string {
  const [first] = error.validation ?? [];
  if (first === undefined) return 'Invalid request';
  const field = first.instancePath.replace(/^\//, '');
  const { params } = first;
  switch (first.keyword) {
    case 'required':
      return `Missing field: ${String(params.missingProperty)}`;
    case 'type':
      return field === ''
        ? 'The request body must be a form or a JSON object'
        : `Field ${field} must be given once, as text`;
    case 'minLength':
      return `Field ${field} must not be empty`;
    case 'maxLength':
      return `Field ${field} is too long`;
    default:
      return `Invalid field ${field || 'body'}`;
  }
}
