/**
 * The second step of a login through the API. `POST /sessions` answers a right password for an
 * account with two-factor authentication on with 401 `second_factor_required` and the challenge
 * cookie (routes.ts); `POST /sessions/second-factor` takes a code with that cookie and opens the
 * session. Rate-limited as logins, from the same budget.
 */
import type { FastifyInstance } from 'fastify';
import type { Auth, SecondStepOutcome } from '../auth/service.js';
import type { ChallengeCookie } from './challenge-cookie.js';
import { CODE_MAX_LENGTH } from './field-limits.js';
import type { ActionRateLimits } from './rate-limits.js';
import { ERROR_SCHEMA, Refusal } from './refusals.js';
import { contextOf } from './request-context.js';
import { EMAIL_MESSAGE_SCHEMA } from './routes.js';
import type { SessionCookie } from './session-cookie.js';

export interface SecondFactorRouteOptions {
  readonly auth: Auth;
  readonly sessionCookie: SessionCookie;
  readonly challengeCookie: ChallengeCookie;
  readonly rateLimits?: ActionRateLimits;
}

/** The API's answer to each way a second step fails (the pages have their own). */
export function refusalOfSecondStep(
  outcome: Exclude<SecondStepOutcome, { outcome: 'logged_in' }>,
): Refusal {
  switch (outcome.outcome) {
    case 'invalid_code':
      // 401 here, beside the 400 of a wrong code when turning the factor on: a login refused.
      return new Refusal('invalid_code', undefined, undefined, { status: 401 });
    case 'expired':
      return new Refusal('second_factor_expired');
    case 'throttled':
      return new Refusal(
        'too_many_attempts',
        `Too many attempts: try again in ${outcome.retryAfterSeconds} seconds`,
        outcome.retryAfterSeconds,
      );
  }
}

/** Registers POST /sessions/second-factor. */
export function registerSecondFactorRoutes(
  app: FastifyInstance,
  options: SecondFactorRouteOptions,
): void {
  const { auth, sessionCookie, challengeCookie, rateLimits } = options;
  app.post<{ Body: { code: string } }>(
    '/sessions/second-factor',
    {
      ...(rateLimits?.login ?? {}),
      schema: {
        summary:
          'The second step of a login: a code from the authenticator app, or a recovery code, with the bienvenue_2fa cookie that POST /sessions set; sets session_id',
        body: {
          type: 'object',
          required: ['code'],
          properties: {
            code: {
              type: 'string',
              minLength: 1,
              maxLength: CODE_MAX_LENGTH,
              description: 'six digits, or a recovery code (case, spaces and dashes ignored)',
            },
          },
        },
        response: {
          200: EMAIL_MESSAGE_SCHEMA,
          401: {
            ...ERROR_SCHEMA,
            description: 'invalid_code (try again), or second_factor_expired (log in again)',
          },
          '4xx': ERROR_SCHEMA,
          '5xx': ERROR_SCHEMA,
        },
      },
    },
    async (request, reply) => {
      const outcome = await auth.completeSecondFactor(
        challengeCookie.read(request),
        request.body.code,
        contextOf(request, reply),
      );
      if (outcome.outcome === 'expired') challengeCookie.clear(reply);
      if (outcome.outcome !== 'logged_in') throw refusalOfSecondStep(outcome);
      challengeCookie.clear(reply);
      sessionCookie.set(reply, outcome.sessionId);
      return { email: outcome.account.email, message: 'logged in' };
    },
  );
}
