/**
 * Per-client rate limits, one counter per action: an action (logging in, signing up, the account
 * actions…) counts against one budget per client address whichever door it comes through, the
 * API route or its page's form. The counters live where @fastify/rate-limit keeps them (memory,
 * or Redis when configured); each action's keys are its own. (In Redis they read
 * `PREFIXrate-limit:undefinedundefined-ACTION:ADDRESS`: the plugin names a limiter made outside a
 * route that way.)
 */
import { normalizeIP } from '@fastify/rate-limit';
import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import type { RateLimit, RateLimitedAction } from '../config.js';

/** Route options applying an action's limit: add them to each route of the action. */
export type ActionRateLimits = Readonly<
  Record<RateLimitedAction, { readonly onRequest: onRequestHookHandler }>
>;

/**
 * One limiter per action, to be shared by its routes. `app` must have @fastify/rate-limit
 * registered. Route-level `config.rateLimit` would not do: the plugin keeps a store per route.
 */
export function actionRateLimits(
  app: FastifyInstance,
  limits: Readonly<Record<RateLimitedAction, RateLimit>>,
): ActionRateLimits {
  const entries = Object.entries(limits).map(([action, limit]) => {
    const onRequest = app.rateLimit({
      max: limit.max,
      timeWindow: limit.windowSeconds * 1000,
      // The plugin's default key (the client address, IPv6 by /64), within the action.
      keyGenerator: (request) => `${action}:${normalizeIP(request.ip)}`,
    });
    return [action, { onRequest }] as const;
  });
  return Object.fromEntries(entries) as unknown as ActionRateLimits;
}
