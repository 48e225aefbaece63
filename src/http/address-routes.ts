/**
 * The API of proven addresses: the verification link (GET shows what to do, POST uses it),
 * asking for a new link, and changing the account's address (PUT /profile/email, then the link
 * mailed to the new address: GET shows what to do, POST /confirm_email_change uses it).
 *
 * No GET ever spends a token: mail scanners (Safe Links, Mimecast…) open the links of every
 * email they pass on before its reader does. A browser gets a page whose button posts the token;
 * an API client gets JSON saying which POST to send.
 */
import type { FastifyInstance } from 'fastify';
import type { Auth } from '../auth/service.js';
import type { OwnerRefusal } from '../auth/password-confirmation.js';
import { EMAIL_MAX_LENGTH, PASSWORD_MAX_LENGTH, TOKEN_MAX_LENGTH } from './field-limits.js';
import { acceptsHtml } from './pages/kit.js';
import { sendConfirmEmailChangePage, sendVerifyEmailPage } from './pages/addresses.js';
import type { ActionRateLimits } from './rate-limits.js';
import { ERROR_SCHEMA, Refusal, type RefusalCode } from './refusals.js';
import { contextOf } from './request-context.js';
import type { SessionCookie } from './session-cookie.js';

export interface AddressRouteOptions {
  readonly auth: Auth;
  readonly sessionCookie: SessionCookie;
  /** Per-client limits: asking for links spends the reset requests' budget, changes the account's. */
  readonly rateLimits?: ActionRateLimits;
}

const text = (maxLength: number) => ({ type: 'string', minLength: 1, maxLength }) as const;
const body = <P extends Record<string, object>>(properties: P) =>
  ({ type: 'object', required: Object.keys(properties), properties }) as const;
const message = (...properties: string[]) =>
  ({
    type: 'object',
    required: properties,
    properties: Object.fromEntries(properties.map((name) => [name, { type: 'string' }])),
  }) as const;
const errors = {
  '4xx': ERROR_SCHEMA,
  '5xx': ERROR_SCHEMA,
} as const;

const CONFIRMATION_REFUSALS = {
  not_logged_in: 'session_required',
  wrong_password: 'wrong_password',
  // Only an account without a password may leave it out.
  password_required: 'missing_field',
  recent_login_required: 'recent_login_required',
} as const satisfies Record<OwnerRefusal, RefusalCode>;

/**
 * Registers GET and POST /verify_email, POST /verify_email/resend, PUT /profile/email, and GET and
 * POST /confirm_email_change.
 */
export function registerAddressRoutes(app: FastifyInstance, options: AddressRouteOptions): void {
  const { auth, sessionCookie, rateLimits } = options;

  app.get(
    '/verify_email',
    {
      schema: {
        summary:
          'Where the verification link lands: changes nothing (a browser gets a page with a button that confirms)',
        response: { 200: message('message'), ...errors },
      },
    },
    (request, reply) =>
      acceptsHtml(request)
        ? sendVerifyEmailPage(request, reply)
        : {
            message:
              'To verify the address, send POST /verify_email with the field token (the token in this link)',
          },
  );

  app.post<{ Body: { token: string } }>(
    '/verify_email',
    {
      ...(rateLimits?.resetPassword ?? {}),
      schema: {
        summary: 'Verify the address with the token of the emailed link (works once)',
        body: body({ token: text(TOKEN_MAX_LENGTH) }),
        response: { 200: message('email', 'message'), 400: ERROR_SCHEMA, ...errors },
      },
    },
    async (request) => {
      const account = await auth.addresses.verification.verify(
        request.body.token,
        contextOf(request),
      );
      return { email: account.email, message: 'email verified' };
    },
  );

  app.post<{ Body: { email: string } }>(
    '/verify_email/resend',
    {
      ...(rateLimits?.resetRequest ?? {}),
      schema: {
        summary:
          'Ask for a new verification link: the same answer for every address; only an unverified account is mailed',
        body: body({ email: text(EMAIL_MAX_LENGTH) }),
        response: { 200: message('email', 'message'), ...errors },
      },
    },
    (request) => {
      const { email } = request.body;
      auth.addresses.verification.resend(email, contextOf(request));
      return {
        email,
        message:
          'If this email has an account that is not verified yet, a new link has been sent to it',
      };
    },
  );

  app.put<{ Body: { password?: string; new_email: string } }>(
    '/profile/email',
    {
      ...(rateLimits?.account ?? {}),
      schema: {
        summary:
          'Change the address (the password is required; an account without one, passkey-only, needs a login within the last 10 minutes instead): the new address is mailed a link that completes the change, the current one a notice; the same answer whether or not the new address has an account',
        body: {
          type: 'object',
          required: ['new_email'],
          properties: { password: text(PASSWORD_MAX_LENGTH), new_email: text(EMAIL_MAX_LENGTH) },
        },
        response: {
          200: message('email', 'message'),
          400: ERROR_SCHEMA,
          401: ERROR_SCHEMA,
          403: ERROR_SCHEMA,
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const result = await auth.addresses.change.request(
        sessionCookie.read(request),
        { password: request.body.password, newEmail: request.body.new_email },
        contextOf(request, reply),
      );
      if (typeof result === 'string') throw new Refusal(CONFIRMATION_REFUSALS[result]);
      return {
        email: result.email,
        message:
          'A link to confirm the change has been sent to the new address; until it is used, nothing changes',
      };
    },
  );

  app.get(
    '/confirm_email_change',
    {
      schema: {
        summary:
          'Where the address-change link lands: changes nothing (a browser gets a page with a button that confirms)',
        response: { 200: message('message'), ...errors },
      },
    },
    (request, reply) =>
      acceptsHtml(request)
        ? sendConfirmEmailChangePage(request, reply)
        : {
            message:
              'To complete the change of address, send POST /confirm_email_change with the field token (the token in this link)',
          },
  );

  app.post<{ Body: { token: string } }>(
    '/confirm_email_change',
    {
      ...(rateLimits?.resetPassword ?? {}),
      schema: {
        summary:
          'Complete a change of address with the token of the link mailed to the new address (works once); the account’s other sessions end',
        body: body({ token: text(TOKEN_MAX_LENGTH) }),
        response: {
          200: message('email', 'message'),
          400: ERROR_SCHEMA,
          409: ERROR_SCHEMA,
          ...errors,
        },
      },
    },
    async (request) => {
      const account = await auth.addresses.change.confirm(request.body.token, contextOf(request));
      return { email: account.email, message: 'email changed' };
    },
  );
}
