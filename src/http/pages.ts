/**
 * The web pages' routes: server-rendered HTML forms that post to routes of their own and call the
 * same Auth methods as the API. A refusal re-renders the form with the error next to its field
 * and a 4xx status; a success redirects (303) somewhere sensible. The API routes are untouched.
 *
 * CSRF: no token. Every unsafe request already passes the Origin / Sec-Fetch-Site check of
 * `csrf.ts`, and page posts must moreover carry a browser's proof that they come from one of our
 * own pages (Sec-Fetch-Site: same-origin, or our Origin), which a page elsewhere cannot forge; the
 * session cookie is SameSite=Lax besides, so no cross-site post carries it.
 *
 * Each concept has its file under `pages/`: sign-in (welcome, sign-up, login, logout), the
 * login's code page (second-factor), account (the account page and its forms), two-factor (its
 * forms on the account page) and reset (asking for a link, using it).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { RateLimitedAction } from '../config.js';
import { errorPage } from '../web/pages.js';
import { STYLESHEET } from '../web/style.js';
import { comesFromOwnPage, CrossSiteRequestError } from './csrf.js';
import { handleError } from './errors.js';
import { safeRedirectTarget } from './redirect-target.js';
import { registerAccountPages } from './pages/account.js';
import { sendPage, setPageHeaders, type PageContext, type PageOptions } from './pages/kit.js';
import { registerResetPages } from './pages/reset.js';
import { registerSecondFactorPages } from './pages/second-factor.js';
import { registerSignInPages } from './pages/sign-in.js';
import { registerTwoFactorPages } from './pages/two-factor.js';
import { registerAddressPages } from './pages/addresses.js';
import { registerPasskeyPages } from './pages/passkeys.js';

export { acceptsHtml, sendPage, type PageOptions } from './pages/kit.js';
export { sendResetPasswordPage } from './pages/reset.js';
export { sendWelcomePage } from './pages/sign-in.js';

/** Registers every page, with the pages' headers, cross-site check and error page. */
export async function registerPages(app: FastifyInstance, options: PageOptions): Promise<void> {
  const { publicUrl, cookieDomain, rateLimits } = options;
  const context: PageContext = {
    options,
    limited: (action: RateLimitedAction) => rateLimits?.[action] ?? {},
    hidden: { schema: { hide: true } },
    seeOther: (reply: FastifyReply, location: string) => reply.redirect(location, 303),
    redirectTarget: (rd: unknown) => safeRedirectTarget(rd, { publicUrl, cookieDomain }),
  };
  const { hidden } = context;

  await app.register((pages, _options, done) => {
    pages.addHook('onSend', async (_request, reply) => {
      setPageHeaders(reply);
    });
    // Only browsers use the pages, and a browser always says where a form post comes from.
    pages.addHook('onRequest', (request, _reply, next) => {
      const unsafe = request.method === 'POST';
      next(
        unsafe && !comesFromOwnPage(request, publicUrl) ? new CrossSiteRequestError() : undefined,
      );
    });
    pages.setErrorHandler((error, request, reply) => {
      handleError(error, request, reply, (page, answer) => {
        void sendPage(page, answer.status, errorPage({ status: answer.status, ...answer.body }));
      });
    });

    pages.get('/style.css', hidden, (_request, reply) =>
      reply.type('text/css; charset=utf-8').send(STYLESHEET),
    );

    registerSignInPages(pages, context);
    registerSecondFactorPages(pages, context);
    registerAccountPages(pages, context);
    registerTwoFactorPages(pages, context);
    registerResetPages(pages, context);
    registerAddressPages(pages, context);
    registerPasskeyPages(pages, context);
    done();
  });
}
