/**
 * The code page of a login with two-factor authentication on: POST /login, with the right
 * password, leads here (303) holding the challenge cookie; the code posted here opens the
 * session and leads on to `rd` or /account. A second step's outcomes are translated here for
 * browsers, as second-factor-routes.ts translates them for the API. Rate-limited as logins.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { logInPage, secondFactorPage } from '../../web/pages.js';
import { answerOf } from '../errors.js';
import { contextOf } from '../request-context.js';
import {
  allowFormToLeadTo,
  fieldProblems,
  fieldsOf,
  queriedRedirectTarget,
  sendPage,
  type PageContext,
} from './kit.js';

/** Registers GET and POST /login/code on `pages`. */
export function registerSecondFactorPages(pages: FastifyInstance, context: PageContext): void {
  const { limited, hidden, seeOther, redirectTarget } = context;
  const { auth, sessionCookie, challengeCookie } = context.options;

  pages.get('/login/code', hidden, (request, reply) => {
    const rd = redirectTarget(queriedRedirectTarget(request));
    allowFormToLeadTo(reply, rd);
    const recovery = (request.query as { recovery?: unknown }).recovery === '1';
    return sendPage(reply, 200, secondFactorPage({}, { recovery, rd }));
  });

  pages.post('/login/code', { ...hidden, ...limited('login') }, async (request, reply) => {
    const read = fieldsOf(request);
    const rd = redirectTarget(read('rd'));
    allowFormToLeadTo(reply, rd);
    const recovery = read('recovery') === '1';
    const again = (status: number, errors: Record<string, string>) =>
      sendPage(reply, status, secondFactorPage({ errors }, { recovery, rd }));
    const problems = fieldProblems(read, {
      code: recovery ? 'Enter a recovery code' : 'Enter the code from your app',
    });
    if (Object.keys(problems).length > 0) return again(400, problems);
    const outcome = await auth.completeSecondFactor(
      challengeCookie.read(request),
      read('code'),
      contextOf(request, reply),
    );
    switch (outcome.outcome) {
      case 'logged_in':
        challengeCookie.clear(reply);
        sessionCookie.set(reply, outcome.sessionId);
        return seeOther(reply, rd ?? '/account');
      case 'invalid_code':
        return again(401, {
          code: recovery
            ? 'This recovery code is not right, or was used already'
            : 'This code is not right: enter the one your app shows now',
        });
      case 'throttled': {
        const wait = outcome.retryAfterSeconds;
        const answer = answerOf({ code: 'too_many_attempts', retryAfterSeconds: wait }, request.id);
        void reply.headers(answer.headers);
        return again(answer.status, { code: `Too many attempts: try again in ${wait} seconds` });
      }
      case 'expired':
        challengeCookie.clear(reply);
        return expired(request, reply, context, rd);
    }
  });
}

/** The login page again, saying why: the challenge is gone, so the password comes first. */
function expired(
  request: FastifyRequest,
  reply: FastifyReply,
  context: PageContext,
  rd: string | undefined,
): FastifyReply {
  const { status } = answerOf({ code: 'second_factor_expired' }, request.id);
  const errors = { form: 'That login expired or had too many wrong codes: log in again.' };
  const offer = { signUpOpen: context.options.auth.signUpOpen };
  return sendPage(reply, status, logInPage({ errors }, { offer, rd }));
}
