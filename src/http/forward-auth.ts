/**
 * Forward auth: a reverse proxy asks, before each request to an app it protects, whether that
 * request may pass. Two endpoints, one per kind of proxy, differ only in where they read the
 * original request and in how they send a browser to the login page:
 *
 * - `/auth/forward` (Caddy `forward_auth`, Traefik `ForwardAuth`, HAProxy) reads the
 *   `X-Forwarded-Method`, `-Proto`, `-Host` and `-Uri` headers, and redirects browsers (302);
 * - `/auth/request` (nginx `auth_request`, which turns any status but 2xx, 401 and 403 into a 500)
 *   reads `X-Original-URL` (or its alias `X-Original-URI`; both, naming different URLs, are
 *   refused, as one must be a client's) and `X-Original-Method`, and answers
 *   browsers 401 with the `Location` for the proxy's configuration to redirect to.
 *
 * Each reads its own family only, so a header a client slipped past the proxy cannot choose the
 * host that the rules judge. Answers: 200 with the identity headers (`Remote-User`,
 * `Remote-Email`, `Remote-User-Id`, and `Remote-Auth`: `password`, `totp`, `recovery_code`, `passkey` or
 * `passkey_without_uv`, how the session was made) when the rules let the request pass, and always `Remote-Email-Verified`
 * (`true` or `false`; `false` without an account), since Caddy copies a header the answer lacks as
 * a literal placeholder; 403 `email_not_verified` when the host's rule asks for a verified
 * address and the account's is not; 401 `session_required` when a login
 * is needed; 403 `access_denied` when the account may not use the host; 403
 * `second_factor_required` when the host's rule asks for a session made with a second factor and
 * this one was made with the password alone (a browser gets a page saying so). No answer
 * sets a cookie, and none may be cached (the service's `Cache-Control: no-store`).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AccessRulesSource } from '../auth/access-rules.js';
import type { Account, AuthMethod } from '../auth/service.js';
import type { Auth } from '../auth/service.js';
import {
  accessDeniedPage,
  emailVerificationRequiredPage,
  secondFactorRequiredPage,
} from '../web/forward-pages.js';
import type { Html } from '../web/html.js';
import { answerOf } from './errors.js';
import { ERROR_SCHEMA } from './refusals.js';
import { setPageHeaders } from './pages/kit.js';
import { forwardedRequest, originalRequest, type OriginalRequest } from './forward-request.js';
import type { SessionCookie } from './session-cookie.js';

export interface ForwardAuthOptions {
  readonly auth: Auth;
  readonly sessionCookie: SessionCookie;
  readonly accessRules: AccessRulesSource;
  readonly publicUrl: string;
}

/** Headers the service sets for the app; a proxy's configuration must drop client-sent ones. */
export const IDENTITY_HEADERS = [
  'Remote-User',
  'Remote-Email',
  'Remote-User-Id',
  'Remote-Auth',
  'Remote-Email-Verified',
] as const;

export function registerForwardAuth(app: FastifyInstance, options: ForwardAuthOptions): void {
  const { auth, sessionCookie, accessRules, publicUrl } = options;
  const route = (summary: string, browserAnswer: string) => ({
    config: { asksForAnotherRequest: true },
    schema: {
      summary,
      tags: ['forward auth'],
      response: {
        200: {
          description:
            'The request may pass; with a live session, Remote-User, Remote-Email and Remote-User-Id name the account, and Remote-Auth says how it logged in (password, totp, recovery_code, passkey or passkey_without_uv); Remote-Email-Verified (always sent) says whether its address is verified',
          type: 'null',
        },
        ...(browserAnswer === '302' && {
          302: {
            description: 'A browser navigation without a live session: Location is the login page',
            type: 'null',
          },
        }),
        '4xx': {
          ...ERROR_SCHEMA,
          description:
            browserAnswer === '302'
              ? '401 session_required (no live session), 403 access_denied, 403 second_factor_required, 403 email_not_verified, 400 forward_headers_missing'
              : '401 session_required (with Location to the login page for a browser navigation), 403 access_denied, 403 second_factor_required, 403 email_not_verified, 400 forward_headers_missing',
        },
        '5xx': ERROR_SCHEMA,
      },
    },
  });

  const answer = async (
    request: FastifyRequest,
    reply: FastifyReply,
    original: OriginalRequest | string,
    loginStatus: 302 | 401,
  ) => {
    if (typeof original === 'string') {
      return refuse(request, reply, 'forward_headers_missing', 400, original);
    }
    const { host } = original;
    const { decision, account, authMethod } = await auth.checkAccess(
      sessionCookie.read(request),
      host,
      accessRules.current(),
    );
    if (decision === 'pass') {
      if (account !== null && authMethod !== null) {
        void reply.headers(identityHeaders(account, authMethod));
      }
      void reply.header('remote-email-verified', String(account?.emailVerified ?? false));
      return reply.code(200).send();
    }
    const browser = isBrowserNavigation(request, original.method);
    if (decision === 'email_not_verified') {
      if (!browser || account === null) return refuse(request, reply, 'email_not_verified', 403);
      const page = emailVerificationRequiredPage({ email: account.email, host, publicUrl });
      return sendDeniedPage(reply, page, publicUrl);
    }
    if (decision === 'login_required') {
      if (!browser) return refuse(request, reply, 'session_required', 401);
      const location = `${publicUrl}/login?rd=${encodeURIComponent(original.url.href)}`;
      void reply.header('location', location);
      return loginStatus === 302
        ? reply.code(302).send()
        : refuse(request, reply, 'session_required', 401);
    }
    if (decision === 'second_factor_required') {
      if (!browser || account === null) {
        return refuse(request, reply, 'second_factor_required', 403);
      }
      const page = secondFactorRequiredPage({ email: account.email, host, publicUrl });
      return sendDeniedPage(reply, page, publicUrl);
    }
    if (browser && account !== null) {
      const switchUrl = `${publicUrl}/login?rd=${encodeURIComponent(original.url.href)}`;
      const page = accessDeniedPage({ email: account.email, host, publicUrl, switchUrl });
      return sendDeniedPage(reply, page, publicUrl);
    }
    return refuse(request, reply, 'access_denied', 403);
  };

  // Bodies are never read: the proxy asks about the request, it does not forward it.
  void app.register((scope, _options, done) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, next) => next(null, undefined));
    const forward = route(
      'Forward auth for Caddy, Traefik and HAProxy: may the request in X-Forwarded-* pass?',
      '302',
    );
    const request = route(
      'Forward auth for nginx auth_request: may the request in X-Original-URL pass?',
      '401',
    );
    scope.all('/auth/forward', forward, (request, reply) =>
      answer(request, reply, forwardedRequest(request), 302),
    );
    scope.all('/auth/request', request, (request, reply) =>
      answer(request, reply, originalRequest(request), 401),
    );
    done();
  });
}

function refuse(
  request: FastifyRequest,
  reply: FastifyReply,
  code:
    | 'session_required'
    | 'access_denied'
    | 'second_factor_required'
    | 'email_not_verified'
    | 'forward_headers_missing',
  status: number,
  message?: string,
) {
  const answer = answerOf({ code, status, ...(message !== undefined && { message }) }, request.id);
  return reply.code(answer.status).send(answer.body);
}

/**
 * The page a browser sees when its account may not use the host: shown at the app's address, so
 * its stylesheet and links are the service's own, by absolute URL.
 */
function sendDeniedPage(reply: FastifyReply, page: Html, publicUrl: string) {
  setPageHeaders(reply);
  const origin = new URL(publicUrl).origin;
  void reply.header(
    'content-security-policy',
    `default-src 'none'; style-src ${origin}; img-src data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'`,
  );
  return reply.code(403).type('text/html; charset=utf-8').send(page.text);
}

/**
 * A browser navigating to a page: GET or HEAD, asking for HTML, not a script's request. Anything
 * else (an API call, a fetch) is answered 401, never redirected to a login page it cannot use.
 */
function isBrowserNavigation(request: FastifyRequest, method: string): boolean {
  return (
    (method === 'GET' || method === 'HEAD') &&
    (request.headers.accept?.includes('text/html') ?? false) &&
    request.headers['x-requested-with']?.toString().toLowerCase() !== 'xmlhttprequest'
  );
}

/**
 * The headers that tell the app who the user is. Header values are ASCII: a character outside
 * printable ASCII, and `%` itself, is percent-encoded as UTF-8, so an address like `josé@…`
 * arrives as `jos%C3%A9@…` and every ASCII address unchanged.
 */
function identityHeaders(account: Account, authMethod: AuthMethod): Record<string, string> {
  const email = account.email.replace(/[^\x21-\x24\x26-\x7e]/gu, encodeURIComponent);
  return {
    'remote-user': email,
    'remote-email': email,
    'remote-user-id': String(account.id),
    'remote-auth': REMOTE_AUTH[authMethod],
  };
}

/** What `Remote-Auth` says of each way a session is made: the factor that completed it. */
const REMOTE_AUTH = {
  password: 'password',
  'password+totp': 'totp',
  'password+recovery_code': 'recovery_code',
  passkey: 'passkey',
  passkey_without_uv: 'passkey_without_uv',
} as const satisfies Record<AuthMethod, string>;
