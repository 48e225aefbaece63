/**
 * Cross-site request refusal. A browser says where a request comes from (`Origin`, and
 * `Sec-Fetch-Site` in current browsers); a state-changing request that it marks as cross-site,
 * or whose origin is not the service's own (PUBLIC_URL), is refused with 403 before it does
 * anything. Non-browser clients send neither header and are not affected.
 */
import type { FastifyInstance } from 'fastify';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export class CrossSiteRequestError extends Error {
  readonly statusCode = 403;
  readonly code = 'BIENVENUE_CROSS_SITE';
  constructor() {
    super('Cross-site request refused');
    this.name = 'CrossSiteRequestError';
  }
}

export function refuseCrossSiteRequests(app: FastifyInstance, publicUrl: string): void {
  const ownOrigin = new URL(publicUrl).origin;
  app.addHook('onRequest', (request, _reply, done) => {
    const { origin } = request.headers;
    const crossSite =
      !SAFE_METHODS.has(request.method) &&
      (request.headers['sec-fetch-site'] === 'cross-site' ||
        (origin !== undefined && origin !== ownOrigin));
    done(crossSite ? new CrossSiteRequestError() : undefined);
  });
}
