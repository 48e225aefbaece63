/**
 * The API of a user's own two-factor authentication: begin turning it on (the secret, its URL and
 * its QR code), confirm it with a code (the recovery codes, shown this once), turn it off, and
 * replace the recovery codes. Each takes the session cookie and answers JSON; each is a write, so
 * it passes the same cross-site check as every other (csrf.ts), and spends the account actions'
 * budget of the client's rate limit, as the account page's forms do.
 *
 * Every rule (the password and its throttle, which code works, what is stored) is the Auth
 * service's; this file only translates its refusals into the catalogue's codes.
 */
import type { FastifyInstance } from 'fastify';
import type { TwoFactorRefusal } from '../auth/two-factor.js';
import type { Auth } from '../auth/service.js';
import { qrCodeSvg } from '../web/qr.js';
import { CODE_MAX_LENGTH, PASSWORD_MAX_LENGTH } from './field-limits.js';
import type { ActionRateLimits } from './rate-limits.js';
import { ERROR_SCHEMA, Refusal, type RefusalCode } from './refusals.js';
import { contextOf } from './request-context.js';
import type { SessionCookie } from './session-cookie.js';

export interface TwoFactorRouteOptions {
  readonly auth: Auth;
  readonly sessionCookie: SessionCookie;
  /** Per-client limits; these routes spend the account actions' budget. */
  readonly rateLimits?: ActionRateLimits;
}

/** The catalogue's code for each refusal of the Auth service's two-factor methods. */
const REFUSAL_CODES = {
  not_logged_in: 'session_required',
  wrong_password: 'wrong_password',
  already_enabled: 'two_factor_already_enabled',
  not_pending: 'two_factor_not_pending',
  not_enabled: 'two_factor_not_enabled',
  invalid_code: 'invalid_code',
} as const satisfies Record<TwoFactorRefusal, RefusalCode>;

const refused = (refusal: TwoFactorRefusal) => new Refusal(REFUSAL_CODES[refusal]);

const PASSWORD = { type: 'string', minLength: 1, maxLength: PASSWORD_MAX_LENGTH } as const;
const CODE = {
  type: 'string',
  minLength: 1,
  maxLength: CODE_MAX_LENGTH,
  description: 'the 6-digit code the authenticator app shows, or (to turn off) a recovery code',
} as const;

const body = <P extends Record<string, object>>(properties: P) =>
  ({ type: 'object', required: Object.keys(properties), properties }) as const;

const RECOVERY_CODES = {
  type: 'array',
  items: { type: 'string', description: 'a recovery code (`xxxxx-xxxxx`), usable once' },
  description: 'shown this once: only their hashes are kept',
} as const;

const errors = {
  400: ERROR_SCHEMA,
  401: ERROR_SCHEMA,
  403: ERROR_SCHEMA,
  409: ERROR_SCHEMA,
  '4xx': ERROR_SCHEMA,
  503: ERROR_SCHEMA,
  '5xx': ERROR_SCHEMA,
} as const;

/**
 * Registers POST and DELETE /profile/totp, POST /profile/totp/confirm and POST
 * /profile/recovery-codes.
 */
export function registerTwoFactorRoutes(
  app: FastifyInstance,
  options: TwoFactorRouteOptions,
): void {
  const { auth, sessionCookie, rateLimits } = options;
  const limited = rateLimits?.account ?? {};

  app.post<{ Body: { password: string } }>(
    '/profile/totp',
    {
      ...limited,
      schema: {
        summary:
          'Begin turning two-factor authentication on (the password is required): a new secret for an authenticator app, pending until confirmed',
        body: body({ password: PASSWORD }),
        response: {
          200: {
            type: 'object',
            required: ['secret', 'otpauth_url', 'qr_svg'],
            properties: {
              secret: { type: 'string', description: 'base32, to type into the app' },
              otpauth_url: { type: 'string', description: 'the otpauth:// URL the QR code holds' },
              qr_svg: { type: 'string', description: 'the QR code, as SVG markup' },
            },
          },
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const pending = await auth.twoFactor.beginEnrolment(
        sessionCookie.read(request),
        request.body.password,
        contextOf(request, reply),
      );
      if (typeof pending === 'string') throw refused(pending);
      return {
        secret: pending.secret,
        otpauth_url: pending.otpauthUrl,
        qr_svg: await qrCodeSvg(pending.otpauthUrl),
      };
    },
  );

  app.post<{ Body: { code: string } }>(
    '/profile/totp/confirm',
    {
      ...limited,
      schema: {
        summary:
          'Turn two-factor authentication on with a code of the pending secret; the account’s other sessions end',
        body: body({ code: CODE }),
        response: {
          200: {
            type: 'object',
            required: ['message', 'recovery_codes'],
            properties: { message: { type: 'string' }, recovery_codes: RECOVERY_CODES },
          },
          ...errors,
        },
      },
    },
    async (request) => {
      const confirmed = await auth.twoFactor.confirmEnrolment(
        sessionCookie.read(request),
        request.body.code,
        contextOf(request),
      );
      if (typeof confirmed === 'string') throw refused(confirmed);
      return {
        message: 'two-factor authentication enabled',
        recovery_codes: confirmed.recoveryCodes,
      };
    },
  );

  app.delete<{ Body: { password: string; code: string } }>(
    '/profile/totp',
    {
      ...limited,
      schema: {
        summary:
          'Turn two-factor authentication off (the password and a code, from the app or a recovery code, are required)',
        body: body({ password: PASSWORD, code: CODE }),
        response: {
          200: {
            type: 'object',
            required: ['message'],
            properties: { message: { type: 'string' } },
          },
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const disabled = await auth.twoFactor.disable(
        sessionCookie.read(request),
        { password: request.body.password, code: request.body.code },
        contextOf(request, reply),
      );
      if (disabled !== true) throw refused(disabled);
      return { message: 'two-factor authentication disabled' };
    },
  );

  app.post<{ Body: { password: string } }>(
    '/profile/recovery-codes',
    {
      ...limited,
      schema: {
        summary:
          'Replace every recovery code (the password is required): the old ones stop working',
        body: body({ password: PASSWORD }),
        response: {
          200: {
            type: 'object',
            required: ['recovery_codes'],
            properties: { recovery_codes: RECOVERY_CODES },
          },
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const replaced = await auth.twoFactor.regenerateCodes(
        sessionCookie.read(request),
        request.body.password,
        contextOf(request, reply),
      );
      if (typeof replaced === 'string') throw refused(replaced);
      return { recovery_codes: replaced.recoveryCodes };
    },
  );
}
