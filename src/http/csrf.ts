/**
 * Cross-site request refusal. A browser says where a request comes from (`Origin`, and
 * `Sec-Fetch-Site` in current browsers); a state-changing request that it marks as cross-site,
 * or whose origin is not the service's own (PUBLIC_URL), is refused with 403 before it does
 * anything. Non-browser clients send neither header and are not affected.
 *
 * The web pages send `Referrer-Policy: no-referrer`, under which browsers send `Origin: null` with
 * their form posts; `Sec-Fetch-Site: same-origin`, which no page can forge, then vouches for them.
 *
 * Forward auth's endpoints are exempt (route config `asksForAnotherRequest`): they change nothing,
 * and the browser headers they receive are those of the app's request, which the proxy relays.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Refusal } from './refusals.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A forward-auth endpoint: its request is about another one, which the proxy relays. */
    asksForAnotherRequest?: boolean;
  }
}

/** The refusal `cross_site_request`. */
export class CrossSiteRequestError extends Refusal {
  readonly code = 'BIENVENUE_CROSS_SITE';
  constructor() {
    super('cross_site_request');
    this.name = 'CrossSiteRequestError';
  }
}

export function refuseCrossSiteRequests(app: FastifyInstance, publicUrl: string): void {
  const ownOrigin = new URL(publicUrl).origin;
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.routeOptions.config.asksForAnotherRequest === true) {
      done();
      return;
    }
    const { origin } = request.headers;
    const site = request.headers['sec-fetch-site'];
    const originAccepted =
      origin === undefined || origin === ownOrigin || (origin === 'null' && site === 'same-origin');
    const crossSite =
      !SAFE_METHODS.has(request.method) && (site === 'cross-site' || !originAccepted);
    done(crossSite ? new CrossSiteRequestError() : undefined);
  });
}

/**
 * Whether a browser vouches that `request` comes from the service's own pages: only browsers
 * use the web pages, and they always send one of these headers with a form post.
 */
export function comesFromOwnPage(request: FastifyRequest, publicUrl: string): boolean {
  return (
    request.headers['sec-fetch-site'] === 'same-origin' ||
    request.headers.origin === new URL(publicUrl).origin
  );
}
