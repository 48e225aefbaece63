/**
 * The one place that turns errors into HTTP answers. Domain errors map through a table; client
 * errors raised by Fastify (bad JSON, wrong content type, oversized body, schema violations) keep
 * their 4xx status with a readable message; anything else is logged with the request id and
 * answered with a generic 500 that reveals nothing of the failure.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import {
  AuthError,
  DatabaseUnavailableError,
  InvalidEmailError,
  InvalidResetTokenError,
  PasswordPolicyError,
  TooManyAttemptsError,
  UnknownEmailError,
  UserAlreadyExistsError,
} from '../auth/errors.js';

type AuthErrorClass = abstract new (...args: never[]) => AuthError;

/** Status and, where the contract fixes it, the body message of each domain error. */
const DOMAIN_ERRORS: ReadonlyArray<readonly [AuthErrorClass, number, string?]> = [
  [InvalidEmailError, 400],
  [PasswordPolicyError, 400],
  [UnknownEmailError, 403],
  [InvalidResetTokenError, 403],
  [TooManyAttemptsError, 429],
];

/** What a 503 tells clients to wait before retrying. */
const RETRY_AFTER_SECONDS = 5;

export interface ErrorAnswer {
  readonly status: number;
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
    // A refusal that names its kind passes it on as `code`.
    const code = error instanceof InvalidEmailError ? { code: error.code } : {};
    for (const [errorClass, status, message] of DOMAIN_ERRORS) {
      if (error instanceof errorClass) {
        return { status, body: { message: message ?? error.message, ...code, requestId } };
      }
    }
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
  if (status === 503) {
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
