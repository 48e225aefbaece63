/**
 * The course's HTTP contract. Requests carry form data (urlencoded or multipart) or JSON; answers
 * are JSON. Handlers only translate between HTTP and the Auth service: every rule lives there.
 */
import type { FastifyInstance } from 'fastify';
import { SignUpClosedError } from '../auth/errors.js';
import type { SelfServiceRefusal } from '../auth/self-service.js';
import type { Auth, LoginOutcome } from '../auth/service.js';
import type { RateLimitedAction } from '../config.js';
import { EMAIL_MAX_LENGTH, PASSWORD_MAX_LENGTH, TOKEN_MAX_LENGTH } from './field-limits.js';
import { acceptsHtml, sendResetPasswordPage, sendWelcomePage } from './pages.js';
import type { ActionRateLimits } from './rate-limits.js';
import type { RedirectTargetSettings } from './redirect-target.js';
import { ERROR_SCHEMA, Refusal, type RefusalCode } from './refusals.js';
import { contextOf } from './request-context.js';
import type { ChallengeCookie } from './challenge-cookie.js';
import type { SessionCookie } from './session-cookie.js';

export interface RouteOptions {
  readonly auth: Auth;
  /** Reads, sets and clears the session cookie. */
  readonly sessionCookie: SessionCookie;
  /** Carries a login whose password was right to its second step. */
  readonly challengeCookie: ChallengeCookie;
  /** The course's contract for POST /reset_password: token in the body, 403 for unknown emails. */
  readonly resetTokenInResponse: boolean;
  /** For the reset page a browser gets at GET /reset_password. */
  readonly passwordMinLength: number;
  /** Where that page's `rd` may point (see redirect-target.ts). */
  readonly redirectTargets: RedirectTargetSettings;
  /** Per-client limits on the routes attackers use; none when absent. */
  readonly rateLimits?: ActionRateLimits;
}

/** A non-empty text field; form data with a repeated field arrives as an array and is refused. */
const field = (maxLength: number) => ({ type: 'string', minLength: 1, maxLength }) as const;
const EMAIL = field(EMAIL_MAX_LENGTH);
const PASSWORD = field(PASSWORD_MAX_LENGTH);
const TOKEN = field(TOKEN_MAX_LENGTH);

const bodyWith = (...names: string[]) => {
  const all: Record<string, object> = { email: EMAIL, password: PASSWORD, reset_token: TOKEN };
  // Any other field (new_password, current_password) is a password.
  return {
    type: 'object',
    required: names,
    properties: Object.fromEntries(names.map((name) => [name, all[name] ?? PASSWORD])),
  } as const;
};

const message = (...properties: string[]) =>
  ({
    type: 'object',
    required: properties,
    properties: Object.fromEntries(properties.map((name) => [name, { type: 'string' }])),
  }) as const;

/**
 * The answer that names the account and says what was done: a sign-up, a login (here, and the
 * second step and passkey logins of second-factor-routes.ts and passkey-routes.ts), a reset, a
 * password change, a deletion.
 */
export const EMAIL_MESSAGE_SCHEMA = message('email', 'message');

/** Every error answer (see refusals.ts). */
const ERROR = ERROR_SCHEMA;

/** `responses`, plus the error answers any route may give. */
const documented = <T extends object>(responses: T) =>
  ({ ...responses, '4xx': ERROR, '5xx': ERROR }) as T & {
    '4xx': typeof ERROR;
    '5xx': typeof ERROR;
  };

/** The API's answer to each way a login fails (the pages have their own). */
function refusalOfLogin(login: Exclude<LoginOutcome, { outcome: 'logged_in' }>): Refusal {
  switch (login.outcome) {
    case 'refused':
      return new Refusal('invalid_credentials');
    case 'second_factor_required':
      return new Refusal('second_factor_required');
    case 'email_not_verified':
      return new Refusal(
        'email_not_verified',
        'This email address is not verified yet: open the link we sent to it, or ask for a new one (POST /verify_email/resend)',
      );
    case 'throttled':
      return new Refusal(
        'too_many_attempts',
        `Too many attempts: try again in ${login.retryAfterSeconds} seconds`,
        login.retryAfterSeconds,
      );
  }
}

/** The API's answer to each refusal of account self-service. */
const SELF_SERVICE_REFUSALS = {
  not_logged_in: 'session_required',
  wrong_password: 'wrong_password',
  // Only an account without a password may leave it out.
  password_required: 'missing_field',
  recent_login_required: 'recent_login_required',
} as const satisfies Record<SelfServiceRefusal, RefusalCode>;

interface Credentials {
  Body: { email: string; password: string };
}

export function registerRoutes(app: FastifyInstance, options: RouteOptions): void {
  const { auth, sessionCookie, challengeCookie, resetTokenInResponse, rateLimits } = options;
  /** Route options that apply the per-client limit of `action`, if limits are on. */
  const limited = (action: RateLimitedAction) => rateLimits?.[action] ?? {};

  // Browsers (Accept: text/html) get the welcome page; API clients the course's JSON.
  app.get(
    '/',
    { schema: { response: documented({ 200: message('message') }) } },
    (request, reply) =>
      acceptsHtml(request) ? sendWelcomePage(request, reply, auth) : { message: 'Bienvenue' },
  );

  app.post<Credentials>(
    '/users',
    {
      ...limited('signUp'),
      // Closed: refused before the fields are checked, whatever they hold.
      preValidation: (_request, _reply, done) => {
        done(auth.signUpOpen ? undefined : new SignUpClosedError());
      },
      schema: {
        body: bodyWith('email', 'password'),
        response: documented({ 200: EMAIL_MESSAGE_SCHEMA }),
      },
    },
    async (request, reply) => {
      const user = await auth.registerUser(
        request.body.email,
        request.body.password,
        contextOf(request, reply),
      );
      return { email: user.email, message: 'user created' };
    },
  );

  app.post<Credentials>(
    '/sessions',
    {
      ...limited('login'),
      schema: {
        body: bodyWith('email', 'password'),
        response: documented({ 200: EMAIL_MESSAGE_SCHEMA, 401: ERROR, 403: ERROR }),
      },
    },
    async (request, reply) => {
      const login = await auth.login(
        request.body.email,
        request.body.password,
        contextOf(request, reply),
      );
      // No session yet: the challenge cookie carries the login to POST /sessions/second-factor.
      if (login.outcome === 'second_factor_required') {
        challengeCookie.set(reply, login.challengeToken);
      }
      if (login.outcome !== 'logged_in') throw refusalOfLogin(login);
      sessionCookie.set(reply, login.sessionId);
      return { email: login.account.email, message: 'logged in' };
    },
  );

  app.delete(
    '/sessions',
    {
      schema: {
        summary:
          'Log out: end the session of the session_id cookie (the account’s other sessions stay), then redirect to /',
        response: documented({ 302: { description: 'Logged out; redirect to /', type: 'null' } }),
      },
    },
    async (request, reply) => {
      if (!(await auth.logout(sessionCookie.read(request), contextOf(request))))
        throw new Refusal('session_required');
      sessionCookie.clear(reply);
      return reply.redirect('/', 302);
    },
  );

  app.get(
    '/profile',
    {
      schema: {
        response: documented({
          200: {
            type: 'object',
            required: ['email', 'two_factor', 'email_verified'],
            properties: {
              email: { type: 'string' },
              email_verified: {
                type: 'boolean',
                description: 'whether the address is proven (a link mailed to it was used)',
              },
              two_factor: {
                type: 'boolean',
                description: 'whether two-factor authentication is on',
              },
            },
          },
          403: ERROR,
        }),
      },
    },
    async (request) => {
      const profile = await auth.profileOf(sessionCookie.read(request));
      if (profile === null) throw new Refusal('session_required');
      const { account, twoFactor } = profile;
      return { email: account.email, two_factor: twoFactor, email_verified: account.emailVerified };
    },
  );

  app.post<{ Body: { email: string } }>(
    '/reset_password',
    {
      ...limited('resetRequest'),
      schema: {
        body: bodyWith('email'),
        response: documented({
          200: {
            type: 'object',
            required: ['email'],
            properties: {
              email: { type: 'string' },
              message: { type: 'string' },
              reset_token: { type: 'string' },
            },
          },
        }),
      },
    },
    async (request) => {
      const { email } = request.body;
      if (resetTokenInResponse) {
        const token = await auth.getResetPasswordToken(email, contextOf(request));
        return { email, reset_token: token };
      }
      auth.requestPasswordReset(email, contextOf(request));
      return {
        email,
        message: 'If this email is registered, a link to reset its password has been sent to it',
      };
    },
  );

  // Where the emailed link lands. Opening it changes nothing (mail scanners prefetch links): only
  // the PUT below (or the form a browser gets here, posting to POST /reset) uses the token.
  app.get(
    '/reset_password',
    { schema: { response: documented({ 200: message('message') }) } },
    (request, reply) =>
      acceptsHtml(request)
        ? sendResetPasswordPage(request, reply, options)
        : {
            message:
              'To choose a new password, send PUT /reset_password with the fields email, reset_token (the token in this link) and new_password',
          },
  );

  app.put<{ Body: { email: string; reset_token: string; new_password: string } }>(
    '/reset_password',
    {
      ...limited('resetPassword'),
      schema: {
        body: bodyWith('email', 'reset_token', 'new_password'),
        response: documented({ 200: EMAIL_MESSAGE_SCHEMA }),
      },
    },
    async (request) => {
      const { email, reset_token: resetToken, new_password: newPassword } = request.body;
      await auth.updatePassword(resetToken, newPassword, {
        email,
        context: contextOf(request),
      });
      return { email, message: 'Password updated' };
    },
  );

  app.put<{ Body: { current_password: string; new_password: string } }>(
    '/profile/password',
    {
      ...limited('account'),
      schema: {
        summary:
          'Change the password (the current one is required); the session carries on under a new cookie, the account’s other sessions end',
        body: bodyWith('current_password', 'new_password'),
        response: documented({ 200: EMAIL_MESSAGE_SCHEMA, 401: ERROR, 403: ERROR }),
      },
    },
    async (request, reply) => {
      const result = await auth.changePassword(
        sessionCookie.read(request),
        { current: request.body.current_password, new: request.body.new_password },
        contextOf(request, reply),
      );
      if (typeof result === 'string') throw new Refusal(SELF_SERVICE_REFUSALS[result]);
      sessionCookie.set(reply, result.sessionId);
      return { email: result.account.email, message: 'password changed' };
    },
  );

  app.delete<{ Body: { password?: string } }>(
    '/profile',
    {
      ...limited('account'),
      schema: {
        summary:
          'Delete the account (its password is required; an account without one, passkey-only, needs a login within the last 10 minutes instead); the session ends',
        body: { type: 'object', properties: { password: PASSWORD } },
        response: documented({ 200: EMAIL_MESSAGE_SCHEMA, 401: ERROR, 403: ERROR }),
      },
    },
    async (request, reply) => {
      const result = await auth.deleteAccount(
        sessionCookie.read(request),
        request.body.password,
        contextOf(request, reply),
      );
      if (typeof result === 'string') throw new Refusal(SELF_SERVICE_REFUSALS[result]);
      sessionCookie.clear(reply);
      return { email: result.email, message: 'account deleted' };
    },
  );
}
