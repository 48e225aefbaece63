/**
 * The one place that turns errors into HTTP answers. Domain errors and the HTTP layer's own
 * {@link Refusal}s name their entry of the catalogue (`refusals.ts`), which gives status, code and
 * headers; client errors raised by Fastify (bad JSON, wrong content type, oversized body, schema
 * violations) keep their 4xx status with a readable message; anything else is logged with the
 * request id and answered with a generic 500 that reveals nothing of the failure.
 *
 * Every error body carries a stable snake_case `code` for programs (the message is for people and
 * may change), except the course's exact `{"message": "email already registered"}`.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AuthError, DatabaseUnavailableError } from '../auth/errors.js';
import {
  isRefusalCode,
  Refusal,
  REFUSALS,
  type RefusalCode,
  type RefusalEntry,
} from './refusals.js';

/** Codes of Fastify's client errors that say more than their status. */
const FASTIFY_CODES: Readonly<Record<string, RefusalCode>> = {
  // Proto poisoning (a `__proto__` key) is refused with this one too.
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'empty_json_body',
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_BAD_URL: 'malformed_url',
};

/**
 * A request over its client's rate limit (raised by the rate-limit hook): `rate_limited`; the hook
 * sets Retry-After itself.
 */
export class RateLimitedError extends Refusal {
  constructor(readonly retryAfter: string) {
    super('rate_limited', `Too many requests: try again in ${retryAfter}`);
    this.name = 'RateLimitedError';
  }
}

/** What a 503 tells clients to wait before retrying. */
const RETRY_AFTER_SECONDS = 5;

/** An error answer: its status, body and headers. */
export interface ErrorAnswer {
  readonly status: number;
  readonly body: { message: string; code?: RefusalCode; requestId?: string };
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * The catalogue's code of an answer with `status` when nothing more precise is known: the
 * status's name in snake_case (`bad_request`, `request_timeout`…) where the catalogue has it.
 */
export function codeForStatus(status: number): RefusalCode {
  const name = (STATUS_CODES[status] ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '');
  return isRefusalCode(name) ? name : 'client_error';
}

/** What was refused, before it becomes an answer. */
export interface Refused {
  readonly code: RefusalCode;
  readonly message?: string;
  /** When the refusal's status is not the catalogue's (a generic client error). */
  readonly status?: number;
  readonly retryAfterSeconds?: number;
}

/** The refusal `error` stands for; `internal_error` for anything unexpected. */
function refusalOf(error: unknown): Refused {
  if (error instanceof DatabaseUnavailableError) {
    return { code: 'service_unavailable', retryAfterSeconds: RETRY_AFTER_SECONDS };
  }
  if (error instanceof AuthError && isRefusalCode(error.refusal)) {
    const wait = 'retryAfterSeconds' in error ? error.retryAfterSeconds : undefined;
    return {
      code: error.refusal,
      message: error.message,
      ...(typeof wait === 'number' && { retryAfterSeconds: wait }),
    };
  }
  if (error instanceof Refusal) {
    return {
      code: error.refusal,
      message: error.message,
      ...(error.statusCode !== REFUSALS[error.refusal].status && { status: error.statusCode }),
      ...(error.retryAfterSeconds !== undefined && { retryAfterSeconds: error.retryAfterSeconds }),
    };
  }
  if (isFastifyError(error) && error.validation !== undefined) return describeValidation(error);
  // Client errors raised by Fastify and its plugins (bad JSON, 413, 415…).
  const status = clientErrorStatus(error);
  if (status !== undefined) {
    const known = isFastifyError(error) ? FASTIFY_CODES[error.code] : undefined;
    const code = known ?? codeForStatus(status);
    return { code, message: (error as Error).message, status };
  }
  return { code: 'internal_error' };
}

/** The answer to `refused` for the request `requestId`: the one mapping of refusals to HTTP. */
export function answerOf(refused: Refused, requestId: string): ErrorAnswer {
  const entry: RefusalEntry = REFUSALS[refused.code];
  const status = refused.status ?? entry.status;
  const message = refused.message ?? entry.message;
  const retryAfter = entry.retryAfter && refused.retryAfterSeconds;
  const headers: Record<string, string> = retryAfter ? { 'retry-after': String(retryAfter) } : {};
  // The course's client expects this body exactly, so it alone carries no code nor request id.
  if (entry.courseBody) return { status, body: { message: entry.message }, headers };
  return { status, body: { message, code: refused.code, requestId }, headers };
}

/** What to answer for `error` thrown while serving `request`. */
export function answerFor(error: unknown, request: FastifyRequest): ErrorAnswer {
  return answerOf(refusalOf(error), request.id);
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
  const answer = answerFor(error, request);
  const { code } = answer.body;
  if (code === 'busy') {
    request.log.warn('request refused: too many password checks waiting');
  } else if (code === 'service_unavailable') {
    request.log.warn({ err: error }, 'request failed: database unavailable');
  } else if (answer.status >= 500) {
    request.log.error({ err: error }, 'request failed');
  }
  void reply.headers(answer.headers);
  render(reply.code(answer.status), answer);
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
function describeValidation(error: FastifyError): { message: string; code: RefusalCode } {
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
