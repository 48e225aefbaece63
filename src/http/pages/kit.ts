/**
 * What the page modules share: their security headers, reading a form's fields, and showing a
 * refusal of the Auth service next to the field it concerns.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  EmailUnchangedError,
  InvalidEmailError,
  InvalidResetTokenError,
  PasswordPolicyError,
  SignUpDomainNotAllowedError,
  TooManyAttemptsError,
  UserAlreadyExistsError,
} from '../../auth/errors.js';
import type { Auth } from '../../auth/service.js';
import type { RateLimitedAction } from '../../config.js';
import type { Html } from '../../web/html.js';
import { NOTICES, type Notice } from '../../web/pages.js';
import { answerFor } from '../errors.js';
import { maxLengthOf } from '../field-limits.js';
import type { ActionRateLimits } from '../rate-limits.js';
import type { ChallengeCookie } from '../challenge-cookie.js';
import type { SessionCookie } from '../session-cookie.js';

export interface PageOptions {
  readonly auth: Auth;
  readonly publicUrl: string;
  /** COOKIE_DOMAIN: with PUBLIC_URL's host, where a login may lead (redirect-target.ts). */
  readonly cookieDomain: string | undefined;
  /** Reads, sets and clears the session cookie. */
  readonly sessionCookie: SessionCookie;
  /** Carries a login whose password was right to the code page. */
  readonly challengeCookie: ChallengeCookie;
  readonly passwordMinLength: number;
  readonly resetTokenTtl: number;
  /** How long verification and address-change links work (EMAIL_VERIFICATION_TTL). */
  readonly emailVerificationTtl: number;
  readonly rateLimits?: ActionRateLimits;
}

/** What every page module works with. */
export interface PageContext {
  readonly options: PageOptions;
  /** Route options that apply the per-client limit of `action`, if limits are on. */
  readonly limited: (action: RateLimitedAction) => object;
  /** Route options of a page: left out of the API's document. */
  readonly hidden: { readonly schema: { readonly hide: true } };
  /** Redirects after a successful post. */
  readonly seeOther: (reply: FastifyReply, location: string) => FastifyReply;
  /** `rd` (from a URL or a form) if safeRedirectTarget accepts it; undefined, so dropped, if not. */
  readonly redirectTarget: (rd: unknown) => string | undefined;
}

/**
 * No script at all, nothing from elsewhere, no framing; forms post only here (and the login form
 * may lead on to its `rd`: see {@link allowFormToLeadTo}). `no-referrer`: the reset page's URL
 * holds a token.
 */
function contentSecurityPolicy(formAction: string): string {
  return `default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'; object-src 'none'`;
}

/** Origins a page's form may lead to beyond the service's own, by reply. */
const formDestinations = new WeakMap<FastifyReply, string>();

/**
 * Lets the form of the page `reply` answers with lead to `target` (a URL safeRedirectTarget
 * accepted): browsers apply `form-action` to the redirects that follow a form's post too, so a
 * login whose answer sends the browser on to another host needs that host's origin there.
 */
export function allowFormToLeadTo(reply: FastifyReply, target: string | undefined): void {
  if (target !== undefined) formDestinations.set(reply, new URL(target).origin);
}

export function setPageHeaders(reply: FastifyReply): void {
  const destination = formDestinations.get(reply);
  const formAction = destination === undefined ? "'self'" : `'self' ${destination}`;
  void reply.header('content-security-policy', contentSecurityPolicy(formAction));
  void reply.header('referrer-policy', 'no-referrer');
  void reply.header('x-frame-options', 'DENY');
}

/** True when the client asks for HTML (a browser); API clients do not. */
export function acceptsHtml(request: FastifyRequest): boolean {
  return request.headers.accept?.includes('text/html') ?? false;
}

/** Answers with `page` and the pages' security headers. */
export function sendPage(reply: FastifyReply, status: number, page: Html): FastifyReply {
  setPageHeaders(reply);
  return reply.code(status).type('text/html; charset=utf-8').send(page.text);
}

/** The `rd` parameter of a page's URL, as sent: a string, an array if repeated, or undefined. */
export function queriedRedirectTarget(request: FastifyRequest): unknown {
  return (request.query as { rd?: unknown }).rd;
}

export function noticeOf(request: FastifyRequest): Notice | undefined {
  const { notice } = request.query as { notice?: unknown };
  return typeof notice === 'string' && Object.hasOwn(NOTICES, notice)
    ? (notice as Notice)
    : undefined;
}

/** A form's text fields; anything absent, repeated or not text reads as empty. */
export function fieldsOf(request: FastifyRequest): (name: string) => string {
  const body: unknown = request.body;
  const record = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  return (name) => {
    const value = Object.hasOwn(record, name) ? record[name] : undefined;
    return typeof value === 'string' ? value : '';
  };
}

/**
 * Errors for the fields left empty, in the words of each field (`messages`), and for those longer
 * than the API allows them (field-limits.ts), the fields of `mayBeEmpty` included.
 */
export function fieldProblems(
  read: (name: string) => string,
  messages: Readonly<Record<string, string>>,
  mayBeEmpty: readonly string[] = [],
): Record<string, string> {
  const fields: [string, string | undefined][] = [
    ...Object.entries(messages),
    ...mayBeEmpty.map((name): [string, undefined] => [name, undefined]),
  ];
  return Object.fromEntries(
    fields.flatMap(([name, message]) => {
      const value = read(name);
      if (value === '') return message === undefined ? [] : [[name, message]];
      const most = maxLengthOf(name);
      return value.length > most ? [[name, `This is too long: at most ${most} characters`]] : [];
    }),
  );
}

/**
 * The status and form errors for a refusal of the Auth service, `fieldOf` placing it on a field
 * (or on the form as a whole); anything a form cannot show is thrown on to the error page.
 */
export function refusal(
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
  fieldOf: (error: Error) => string,
): { status: number; errors: Record<string, string> } {
  const shown =
    error instanceof InvalidEmailError ||
    error instanceof PasswordPolicyError ||
    error instanceof UserAlreadyExistsError ||
    error instanceof SignUpDomainNotAllowedError ||
    error instanceof InvalidResetTokenError ||
    error instanceof EmailUnchangedError ||
    error instanceof TooManyAttemptsError;
  if (!shown) throw error;
  const answer = answerFor(error, request);
  void reply.headers(answer.headers);
  return { status: answer.status, errors: { [fieldOf(error)]: error.message } };
}
