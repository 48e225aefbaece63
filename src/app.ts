/**
 * Builds the HTTP application around an Auth service: body parsers, cookies, security headers,
 * error mapping and the routes. It opens no port and no database; `main.ts` and the tests do.
 */
import { randomUUID } from 'node:crypto';
import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { AccessRules, type AccessRulesSource } from './auth/access-rules.js';
import { LOGIN_CHALLENGE_TTL_MS } from './auth/second-step.js';
import type { Auth } from './auth/service.js';
import type { Config } from './config.js';
import { registerFormParsers, registerJsonParser } from './http/body-parsers.js';
import { refuseCrossSiteRequests } from './http/csrf.js';
import { registerForwardAuth } from './http/forward-auth.js';
import { handleClientError } from './http/client-errors.js';
import { handleError, RateLimitedError } from './http/errors.js';
import { Refusal } from './http/refusals.js';
import { registerOpenApi, registerOperationRoutes, type Readiness } from './http/operations.js';
import { registerPages } from './http/pages.js';
import { actionRateLimits } from './http/rate-limits.js';
import { registerRoutes } from './http/routes.js';
import { ChallengeCookie } from './http/challenge-cookie.js';
import { registerSecondFactorRoutes } from './http/second-factor-routes.js';
import { SessionCookie } from './http/session-cookie.js';
import { registerSessionRoutes } from './http/session-routes.js';
import { registerTwoFactorRoutes } from './http/two-factor-routes.js';
import { registerAddressRoutes } from './http/address-routes.js';
import { registerPasskeyRoutes } from './http/passkey-routes.js';
import { deferredSchemas } from './http/deferred-schemas.js';
import type { Metrics } from './metrics.js';
import { requestLogger } from './logger.js';

export interface AppDependencies {
  readonly auth: Auth;
  readonly config: Pick<
    Config,
    | 'publicUrl'
    | 'sessionTtl'
    | 'resetTokenInResponse'
    | 'rateLimit'
    | 'rateLimits'
    | 'trustProxy'
    | 'redisKeyPrefix'
    | 'passwordMinLength'
    | 'resetTokenTtl'
    | 'requestTimeout'
    | 'sessionCookieName'
    | 'cookieDomain'
    | 'emailVerificationTtl'
  >;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly readiness: Readiness;
  /** Who may pass forward auth to which host; every host needs a login when absent. */
  readonly accessRules?: AccessRulesSource;
  /** Where per-client request counts live; in this process's memory when absent. */
  readonly redis?: Redis;
}

/** Auth requests are a few short fields; anything larger is refused with 413. */
const BODY_LIMIT_BYTES = 16 * 1024;
const MAX_FORM_FIELDS = 16;

/**
 * Node's timeouts for receiving requests, from REQUEST_TIMEOUT. Node checks them every
 * `connectionsCheckingInterval`, so they are set one interval short: a request that has not
 * arrived in full is answered 408 and closed at most `seconds` after it began, whatever its client
 * does (trickling headers, a body that never ends, silence).
 */
function receiveTimeouts(seconds: number) {
  const checkEveryMs = Math.min(1000, (seconds * 1000) / 2);
  const timeoutMs = seconds * 1000 - checkEveryMs;
  return {
    requestTimeout: timeoutMs,
    // The socket's own inactivity timeout only backs those up: it closes without an answer, so it
    // fires one check later than they do, never racing their 408 (Node lifts it for the later
    // requests of a keep-alive connection; the request and headers timeouts hold there too).
    connectionTimeout: seconds * 1000 + checkEveryMs,
    http: { headersTimeout: timeoutMs, connectionsCheckingInterval: checkEveryMs },
  };
}

/** How long after listening the route schemas not used yet start compiling. */
const COMPILE_SCHEMAS_AFTER_MS = 1000;

export async function buildApp(dependencies: AppDependencies): Promise<FastifyInstance> {
  const { auth, config, logger, metrics } = dependencies;
  const schemas = deferredSchemas();
  const app = Fastify({
    loggerInstance: logger,
    childLoggerFactory: requestLogger,
    genReqId: () => randomUUID(),
    bodyLimit: BODY_LIMIT_BYTES,
    ...receiveTimeouts(config.requestTimeout),
    // Requests Node's parser refuses (400, 408, 431) get the usual headers and a JSON body.
    clientErrorHandler: handleClientError,
    // The client address is the socket's, unless the connection comes from a trusted proxy.
    trustProxy: config.trustProxy ?? false,
    // Types are checked, never coerced: a number or a repeated field is not a string.
    ajv: { customOptions: { coerceTypes: false } },
    // Compiled when first used, or soon after the service listens, rather than before it starts.
    schemaController: { compilersFactory: schemas.compilersFactory },
    // Errors raised before routing (a malformed URL, say) get the same answers as the rest; no
    // hook runs for them, hence the headers here.
    frameworkErrors: (error, request, reply) => {
      setStandardHeaders(request, reply);
      handleError(error, request, reply);
    },
  }) as unknown as FastifyInstance;

  // Only for writing cookies: the session cookie is read from the raw header (session-cookie.ts),
  // so parsing every request's cookies in a hook would be work on each session check for nothing.
  await app.register(cookie, { hook: false });
  registerFormParsers(app, MAX_FORM_FIELDS);
  registerJsonParser(app);
  refuseCrossSiteRequests(app, config.publicUrl);
  if (config.rateLimit) {
    await app.register(rateLimit, {
      global: false,
      ...(dependencies.redis && { redis: dependencies.redis }),
      nameSpace: `${config.redisKeyPrefix}rate-limit:`,
      // A Redis outage must not stop logins: the limits then stand aside (and ioredis logs it).
      skipOnError: true,
      errorResponseBuilder: (_request, context) => new RateLimitedError(context.after),
    });
  }
  // One counter per action and client, whichever route (API or page) the action comes through.
  const rateLimits = config.rateLimit ? actionRateLimits(app, config.rateLimits) : undefined;

  // Once closing, answers end their connection, so keep-alive clients cannot hold a shutdown open.
  let closing = false;
  // Listening, the service answers at once; the schemas not used yet compile in the gaps, from a
  // moment later, when a restarted instance has answered the requests that waited for it.
  app.addHook('onListen', (done) => {
    setTimeout(() => {
      schemas.compileAll().catch((error: unknown) => {
        logger.error({ err: error }, 'a route schema does not compile');
      });
    }, COMPILE_SCHEMAS_AFTER_MS).unref();
    done();
  });
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    if (closing) void reply.header('connection', 'close');
    setStandardHeaders(request, reply);
    done(null, payload);
  });
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) => handleError(new Refusal('not_found'), request, reply));

  app.addHook('onResponse', (request, reply, done) => {
    metrics.httpRequestDuration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
    done();
  });

  await registerOpenApi(app, config.publicUrl);
  await registerOperationRoutes(app, dependencies.readiness);
  const sessionCookie = new SessionCookie({
    name: config.sessionCookieName,
    publicUrl: config.publicUrl,
    domain: config.cookieDomain,
    maxAgeSeconds: config.sessionTtl,
  });
  const challengeCookie = new ChallengeCookie({
    publicUrl: config.publicUrl,
    maxAgeSeconds: LOGIN_CHALLENGE_TTL_MS / 1000,
  });
  registerRoutes(app, {
    auth,
    sessionCookie,
    challengeCookie,
    resetTokenInResponse: config.resetTokenInResponse,
    passwordMinLength: config.passwordMinLength,
    redirectTargets: { publicUrl: config.publicUrl, cookieDomain: config.cookieDomain },
    ...(rateLimits && { rateLimits }),
  });
  registerSessionRoutes(app, { auth, sessionCookie, ...(rateLimits && { rateLimits }) });
  registerSecondFactorRoutes(app, {
    auth,
    sessionCookie,
    challengeCookie,
    ...(rateLimits && { rateLimits }),
  });
  registerTwoFactorRoutes(app, { auth, sessionCookie, ...(rateLimits && { rateLimits }) });
  registerAddressRoutes(app, { auth, sessionCookie, ...(rateLimits && { rateLimits }) });
  registerPasskeyRoutes(app, {
    auth,
    sessionCookie,
    challengeCookie,
    ...(rateLimits && { rateLimits }),
  });
  registerForwardAuth(app, {
    auth,
    sessionCookie,
    accessRules: dependencies.accessRules ?? { current: () => AccessRules.LOGGED_IN },
    publicUrl: config.publicUrl,
  });
  await registerPages(app, {
    auth,
    publicUrl: config.publicUrl,
    cookieDomain: config.cookieDomain,
    sessionCookie,
    challengeCookie,
    passwordMinLength: config.passwordMinLength,
    resetTokenTtl: config.resetTokenTtl,
    emailVerificationTtl: config.emailVerificationTtl,
    ...(rateLimits && { rateLimits }),
  });
  return app;
}

/**
 * Headers every answer carries: nothing is cached (unless its route says otherwise), nothing
 * sniffed, the request id is given.
 */
function setStandardHeaders(request: FastifyRequest, reply: FastifyReply): void {
  // Nothing is cached, but what a route says may be (the pages' scripts).
  if (!reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store');
  void reply.header('x-content-type-options', 'nosniff');
  void reply.header('x-request-id', request.id);
}
