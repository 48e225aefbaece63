/**
 * The API of a user's own sessions ("devices"): list them, end one, end all but the caller's.
 * Each takes the session cookie and answers JSON; the writes pass the same cross-site check as
 * every other (csrf.ts). A session is named by its public id, never its token or digest, and an
 * id that is not one of the caller's live sessions is a 404 whoever's it is.
 */
import type { FastifyInstance } from 'fastify';
import { SessionRequiredError, UnknownSessionError } from '../auth/errors.js';
import type { Auth } from '../auth/service.js';
import { ERROR_SCHEMA } from './refusals.js';
import { contextOf } from './request-context.js';
import type { ActionRateLimits } from './rate-limits.js';
import type { SessionCookie } from './session-cookie.js';

export interface SessionRouteOptions {
  readonly auth: Auth;
  readonly sessionCookie: SessionCookie;
  /** Per-client limits; the writes spend the account actions' budget, as the page's forms do. */
  readonly rateLimits?: ActionRateLimits;
}

const ERROR = ERROR_SCHEMA;

const TIME = { type: 'string', format: 'date-time' } as const;
const NULLABLE_TEXT = { type: ['string', 'null'] } as const;

const SESSION = {
  type: 'object',
  required: [
    'id',
    'created_at',
    'last_seen_at',
    'expires_at',
    'ip',
    'user_agent',
    'authenticated_by',
    'current',
  ],
  properties: {
    id: { type: 'string', description: 'public id of the session (not its token)' },
    created_at: TIME,
    last_seen_at: TIME,
    expires_at: { ...TIME, description: 'when it ends unless used again before' },
    ip: NULLABLE_TEXT,
    user_agent: NULLABLE_TEXT,
    authenticated_by: {
      type: 'string',
      enum: [
        'password',
        'password+totp',
        'password+recovery_code',
        'passkey',
        'passkey_without_uv',
      ],
      description:
        'how the session was made: the password alone, or with a second factor; or a passkey, with user verification or without',
    },
    current: { type: 'boolean', description: 'true for the session of the request' },
  },
} as const;

const errors = { 403: ERROR, '4xx': ERROR, '5xx': ERROR } as const;

/** Registers GET and DELETE /profile/sessions and DELETE /profile/sessions/{id}. */
export function registerSessionRoutes(app: FastifyInstance, options: SessionRouteOptions): void {
  const { auth, sessionCookie, rateLimits } = options;
  const limited = rateLimits?.account ?? {};

  app.get(
    '/profile/sessions',
    {
      schema: {
        summary: 'The live sessions of the account, most recently seen first',
        response: {
          200: {
            type: 'object',
            required: ['sessions'],
            properties: { sessions: { type: 'array', items: SESSION } },
          },
          ...errors,
        },
      },
    },
    async (request) => {
      const listed = await auth.listSessions(sessionCookie.read(request));
      if (listed === 'not_logged_in') throw new SessionRequiredError();
      return {
        sessions: listed.sessions.map((session) => ({
          id: session.id,
          created_at: session.createdAt.toISOString(),
          last_seen_at: session.lastSeenAt.toISOString(),
          expires_at: session.expiresAt.toISOString(),
          ip: session.ip,
          user_agent: session.userAgent,
          authenticated_by: session.authMethod,
          current: session.current,
        })),
      };
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/profile/sessions/:id',
    {
      ...limited,
      schema: {
        summary:
          'End one session of the account (the caller’s own too: that logs out and clears the cookie)',
        params: {
          type: 'object',
          required: ['id'],
          // No length limit: any id that is not one of the caller's live sessions is a 404.
          properties: { id: { type: 'string' } },
        },
        response: {
          200: {
            type: 'object',
            required: ['message'],
            properties: { message: { type: 'string' } },
          },
          404: ERROR,
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const result = await auth.revokeSession(
        sessionCookie.read(request),
        request.params.id,
        contextOf(request),
      );
      if (result === 'not_logged_in') throw new SessionRequiredError();
      if (result === 'not_found') throw new UnknownSessionError();
      if (result.endedCurrent) sessionCookie.clear(reply);
      return { message: 'session ended' };
    },
  );

  app.delete(
    '/profile/sessions',
    {
      ...limited,
      schema: {
        summary: 'End every session of the account but the caller’s',
        response: {
          200: {
            type: 'object',
            required: ['message', 'ended'],
            properties: { message: { type: 'string' }, ended: { type: 'integer' } },
          },
          ...errors,
        },
      },
    },
    async (request) => {
      const ended = await auth.revokeOtherSessions(sessionCookie.read(request), contextOf(request));
      if (ended === 'not_logged_in') throw new SessionRequiredError();
      return { message: 'other sessions ended', ended };
    },
  );
}
