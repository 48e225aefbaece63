/**
 * The API of passkeys: adding one (creation options, then the browser's response), listing and
 * removing the account's, logging in with one (request options, then the browser's response),
 * and removing the password of an account that has a passkey. The writes pass the same
 * cross-site check as every other (csrf.ts). The account routes spend the account actions'
 * budget of the client's rate limit; a passkey login's response spends the logins' budget, so
 * refused passkeys count toward it as wrong passwords do.
 *
 * Every rule (challenges, origin, RP ID, signature, counter) is the Auth service's
 * (auth/passkeys/); this file only translates its outcomes.
 */
import type { FastifyInstance } from 'fastify';
import type { FreshnessRefusal, PasskeyView } from '../auth/passkeys/index.js';
import { PASSKEY_NAME_MAX_LENGTH } from '../auth/passkeys/index.js';
import type { Auth } from '../auth/service.js';
import type { ChallengeCookie } from './challenge-cookie.js';
import { PASSWORD_MAX_LENGTH } from './field-limits.js';
import type { ActionRateLimits } from './rate-limits.js';
import { ERROR_SCHEMA, Refusal, type RefusalCode } from './refusals.js';
import { contextOf } from './request-context.js';
import { EMAIL_MESSAGE_SCHEMA } from './routes.js';
import type { SessionCookie } from './session-cookie.js';

export interface PasskeyRouteOptions {
  readonly auth: Auth;
  readonly sessionCookie: SessionCookie;
  readonly challengeCookie: ChallengeCookie;
  readonly rateLimits?: ActionRateLimits;
}

const FRESHNESS_REFUSALS = {
  not_logged_in: 'session_required',
  wrong_password: 'wrong_password',
  recent_login_required: 'recent_login_required',
} as const satisfies Record<FreshnessRefusal, RefusalCode>;

const TIME = { type: 'string', format: 'date-time' } as const;
const OPTIONAL_PASSWORD = {
  type: 'object',
  properties: {
    password: {
      type: 'string',
      maxLength: PASSWORD_MAX_LENGTH,
      description: 'the account’s password; needed when the session is over 10 minutes old',
    },
  },
} as const;
const BROWSER_RESPONSE = {
  type: 'object',
  description: 'what @simplewebauthn/browser (or navigator.credentials, as JSON) gave back',
} as const;
const WEBAUTHN_OPTIONS = {
  type: 'object',
  additionalProperties: true,
  required: ['challenge'],
  properties: { challenge: { type: 'string' } },
  description: 'WebAuthn options as JSON, for @simplewebauthn/browser (usable once, 5 minutes)',
} as const;
const PASSKEY = {
  type: 'object',
  required: ['id', 'name', 'created_at', 'last_used_at', 'backed_up'],
  properties: {
    id: { type: 'string', description: 'public id of the passkey (not its credential id)' },
    name: { type: 'string' },
    created_at: TIME,
    last_used_at: { type: ['string', 'null'], format: 'date-time' },
    backed_up: { type: 'boolean', description: 'synced between the holder’s devices' },
  },
} as const;
const MESSAGE = {
  type: 'object',
  required: ['message'],
  properties: { message: { type: 'string' } },
} as const;
const errors = { 401: ERROR_SCHEMA, 403: ERROR_SCHEMA, '4xx': ERROR_SCHEMA, '5xx': ERROR_SCHEMA };

const passkeyJson = (passkey: PasskeyView) => ({
  id: passkey.id,
  name: passkey.name,
  created_at: passkey.createdAt.toISOString(),
  last_used_at: passkey.lastUsedAt?.toISOString() ?? null,
  backed_up: passkey.backedUp,
});

/** Lets a route whose body is optional be called without one (its schema then sees `{}`). */
const OPTIONAL_BODY = {
  preValidation: (request: { body: unknown }, _reply: unknown, done: () => void) => {
    request.body ??= {};
    done();
  },
};

/** The optional password of a body that may be absent. */
function passwordOf(body: unknown): string | undefined {
  const password = (body as { password?: unknown } | undefined)?.password;
  return typeof password === 'string' ? password : undefined;
}

/**
 * Registers POST /profile/passkeys/options, GET and POST /profile/passkeys, DELETE
 * /profile/passkeys/{id}, DELETE /profile/password, POST /sessions/passkey/options and POST
 * /sessions/passkey.
 */
export function registerPasskeyRoutes(app: FastifyInstance, options: PasskeyRouteOptions): void {
  const { auth, sessionCookie, challengeCookie, rateLimits } = options;
  const account = rateLimits?.account ?? {};
  const login = rateLimits?.login ?? {};
  const loginOptions = rateLimits?.passkeyOptions ?? {};

  app.post(
    '/profile/passkeys/options',
    {
      ...account,
      ...OPTIONAL_BODY,
      schema: {
        summary:
          'Begin adding a passkey: creation options (a fresh challenge; a discoverable credential; the account’s passkeys excluded). Needs a login of the last 10 minutes or the password',
        body: OPTIONAL_PASSWORD,
        response: { 200: WEBAUTHN_OPTIONS, ...errors },
      },
    },
    async (request, reply) => {
      const made = await auth.passkeys.registrationOptions(
        sessionCookie.read(request),
        passwordOf(request.body),
        contextOf(request, reply),
      );
      if (made === 'email_not_verified') {
        throw new Refusal(
          'email_not_verified',
          'Prove your address before adding a passkey: open the link we sent to it, or ask for a new one',
        );
      }
      if (typeof made === 'string') throw new Refusal(FRESHNESS_REFUSALS[made]);
      return made;
    },
  );

  app.post<{ Body: { name: string; response: object } }>(
    '/profile/passkeys',
    {
      ...account,
      schema: {
        summary: 'Add a passkey: the browser’s answer to the creation options, and its name',
        body: {
          type: 'object',
          required: ['name', 'response'],
          properties: {
            name: { type: 'string', minLength: 1, maxLength: PASSKEY_NAME_MAX_LENGTH },
            response: BROWSER_RESPONSE,
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['id', 'name', 'created_at'],
            properties: { id: { type: 'string' }, name: { type: 'string' }, created_at: TIME },
          },
          ...errors,
        },
      },
    },
    async (request) => {
      const added = await auth.passkeys.register(
        sessionCookie.read(request),
        { name: request.body.name, response: request.body.response },
        contextOf(request),
      );
      if (added === 'not_logged_in') throw new Refusal('session_required');
      if (added === 'rejected') throw new Refusal('passkey_rejected');
      return { id: added.id, name: added.name, created_at: added.createdAt.toISOString() };
    },
  );

  app.get(
    '/profile/passkeys',
    {
      schema: {
        summary: 'The passkeys of the account, oldest first',
        response: {
          200: {
            type: 'object',
            required: ['passkeys'],
            properties: { passkeys: { type: 'array', items: PASSKEY } },
          },
          ...errors,
        },
      },
    },
    async (request) => {
      const listed = await auth.passkeys.listOwn(sessionCookie.read(request));
      if (listed === 'not_logged_in') throw new Refusal('session_required');
      return { passkeys: listed.map(passkeyJson) };
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/profile/passkeys/:id',
    {
      ...account,
      schema: {
        summary: 'Remove one passkey of the account (404 for any id that is not one of them)',
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } },
        response: { 200: MESSAGE, 404: ERROR_SCHEMA, ...errors },
      },
    },
    async (request) => {
      const removed = await auth.passkeys.removeOwn(
        sessionCookie.read(request),
        request.params.id,
        contextOf(request),
      );
      if (removed === 'not_logged_in') throw new Refusal('session_required');
      if (removed === 'not_found') throw new Refusal('not_found', 'No such passkey');
      return { message: 'passkey removed' };
    },
  );

  app.delete(
    '/profile/password',
    {
      ...account,
      ...OPTIONAL_BODY,
      schema: {
        summary:
          'Remove the password: the account then logs in with its passkeys only (a reset by email sets a password again). Needs a passkey, and a login of the last 10 minutes or the password; the account’s other sessions end',
        body: OPTIONAL_PASSWORD,
        response: { 200: MESSAGE, 409: ERROR_SCHEMA, ...errors },
      },
    },
    async (request, reply) => {
      const removed = await auth.passkeys.removePassword(
        sessionCookie.read(request),
        passwordOf(request.body),
        contextOf(request, reply),
      );
      if (removed === 'passkey_required' || removed === 'no_password') {
        throw new Refusal(removed);
      }
      if (removed !== true) throw new Refusal(FRESHNESS_REFUSALS[removed]);
      return { message: 'password removed' };
    },
  );

  // Not under the logins' budget: the login page asks for options at every view (for the
  // autofill), which is no login attempt; the responses, which are, spend it.
  app.post(
    '/sessions/passkey/options',
    {
      ...loginOptions,
      schema: {
        summary:
          'Begin a passkey login: request options (a fresh challenge, no account named: the browser offers the passkeys it holds)',
        response: { 200: WEBAUTHN_OPTIONS, '4xx': ERROR_SCHEMA, '5xx': ERROR_SCHEMA },
      },
    },
    () => auth.passkeys.loginOptions(),
  );

  app.post<{ Body: { response: object } }>(
    '/sessions/passkey',
    {
      ...login,
      schema: {
        summary:
          'Log in with a passkey: the browser’s answer to the request options; sets session_id (or, without user verification on an account with two-factor authentication on, bienvenue_2fa for the code)',
        body: {
          type: 'object',
          required: ['response'],
          properties: { response: BROWSER_RESPONSE },
        },
        response: {
          200: EMAIL_MESSAGE_SCHEMA,
          401: {
            ...ERROR_SCHEMA,
            description: 'passkey_rejected, or second_factor_required (a code is needed)',
          },
          403: {
            ...ERROR_SCHEMA,
            description:
              'email_not_verified: with EMAIL_VERIFICATION=required, the account’s address is not proven yet',
          },
          '4xx': ERROR_SCHEMA,
          '5xx': ERROR_SCHEMA,
        },
      },
    },
    async (request, reply) => {
      const outcome = await auth.passkeys.logIn(request.body.response, contextOf(request));
      if (outcome.outcome === 'rejected') throw new Refusal('passkey_rejected');
      if (outcome.outcome === 'second_factor_required') {
        challengeCookie.set(reply, outcome.challengeToken);
        throw new Refusal('second_factor_required');
      }
      if (outcome.outcome === 'email_not_verified') {
        throw new Refusal(
          'email_not_verified',
          'This email address is not verified yet: open the link we sent to it, or ask for a new one (POST /verify_email/resend)',
        );
      }
      sessionCookie.set(reply, outcome.sessionId);
      return { email: outcome.account.email, message: 'logged in' };
    },
  );
}
