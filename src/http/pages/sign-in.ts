/**
 * The sign-in pages: the welcome page, sign-up, login and logout. A login's outcomes are
 * translated here for browsers, as routes.ts translates them for the API. While sign-up is
 * closed, no page links to the sign-up form, and the form's page says sign-up is closed.
 *
 * Sign-up and login carry `rd` (where forward auth sent the browser from) from their URL into
 * their form and on to each other; a login then leads there instead of to /account. Only a value
 * safeRedirectTarget accepts is ever carried or followed; any other is dropped unseen.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  PasswordPolicyError,
  SignUpClosedError,
  UserAlreadyExistsError,
} from '../../auth/errors.js';
import type { Auth } from '../../auth/service.js';
import { withRedirectTarget } from '../../web/components.js';
import {
  logInPage,
  signUpClosedPage,
  signUpPage,
  welcomePage,
  type SignUpOffer,
} from '../../web/pages.js';
import { answerOf } from '../errors.js';
import { emailNotVerifiedPage } from '../../web/address-pages.js';
import { sendCheckInboxPage } from './addresses.js';
import { contextOf } from '../request-context.js';
import {
  allowFormToLeadTo,
  fieldProblems,
  fieldsOf,
  noticeOf,
  queriedRedirectTarget,
  refusal,
  sendPage,
  type PageContext,
} from './kit.js';

/** The welcome page, for GET / from a browser. */
export function sendWelcomePage(
  request: FastifyRequest,
  reply: FastifyReply,
  auth: Auth,
): FastifyReply {
  return sendPage(reply, 200, welcomePage(offerOf(auth), noticeOf(request)));
}

function offerOf(auth: Auth): SignUpOffer {
  return { signUpOpen: auth.signUpOpen };
}

/** Registers GET and POST /signup and /login, and POST /logout, on `pages`. */
export function registerSignInPages(pages: FastifyInstance, context: PageContext): void {
  const { limited, hidden, seeOther, redirectTarget } = context;
  const { auth, sessionCookie, challengeCookie, passwordMinLength } = context.options;
  const offer = offerOf(auth);

  pages.get('/signup', hidden, (request, reply) => {
    const rd = redirectTarget(queriedRedirectTarget(request));
    return auth.signUpOpen
      ? sendPage(reply, 200, signUpPage({}, { passwordMinLength, rd }))
      : sendPage(reply, 200, signUpClosedPage({ rd }));
  });
  pages.post('/signup', { ...hidden, ...limited('signUp') }, async (request, reply) => {
    const closed = () =>
      sendPage(reply, answerOf({ code: 'signup_closed' }, request.id).status, signUpClosedPage());
    // Closed: the same answer whatever the form holds, before any field is read.
    if (!auth.signUpOpen) return closed();
    const read = fieldsOf(request);
    const rd = redirectTarget(read('rd'));
    const values = { email: read('email') };
    const problems = fieldProblems(read, {
      email: 'Enter your email address',
      password: 'Choose a password',
    });
    if (Object.keys(problems).length > 0) {
      return sendPage(
        reply,
        400,
        signUpPage({ values, errors: problems }, { passwordMinLength, rd }),
      );
    }
    try {
      await auth.registerUser(read('email'), read('password'), contextOf(request, reply));
    } catch (error) {
      if (error instanceof SignUpClosedError) return closed();
      const { status, errors } = refusal(error, request, reply, (refused) =>
        refused instanceof PasswordPolicyError ? 'password' : 'email',
      );
      if (error instanceof UserAlreadyExistsError) {
        errors.email = 'This email already has an account: log in, or reset its password';
      }
      return sendPage(reply, status, signUpPage({ values, errors }, { passwordMinLength, rd }));
    }
    if (auth.addresses.verification.sendsLinks) {
      return sendCheckInboxPage(reply, read('email'), context.options.emailVerificationTtl);
    }
    return seeOther(reply, withRedirectTarget('/login?notice=created', rd));
  });

  pages.get('/login', hidden, (request, reply) => {
    const rd = redirectTarget(queriedRedirectTarget(request));
    allowFormToLeadTo(reply, rd);
    return sendPage(reply, 200, logInPage({}, { offer, notice: noticeOf(request), rd }));
  });
  pages.post('/login', { ...hidden, ...limited('login') }, async (request, reply) => {
    const read = fieldsOf(request);
    const rd = redirectTarget(read('rd'));
    allowFormToLeadTo(reply, rd);
    const values = { email: read('email') };
    const problems = fieldProblems(read, {
      email: 'Enter your email address',
      password: 'Enter your password',
    });
    if (Object.keys(problems).length > 0) {
      return sendPage(reply, 400, logInPage({ values, errors: problems }, { offer, rd }));
    }
    const login = await auth.login(read('email'), read('password'), contextOf(request, reply));
    switch (login.outcome) {
      case 'refused': {
        const errors = { password: 'Wrong email or password' };
        const { status } = answerOf({ code: 'invalid_credentials' }, request.id);
        return sendPage(reply, status, logInPage({ values, errors }, { offer, rd }));
      }
      case 'throttled': {
        const wait = login.retryAfterSeconds;
        const answer = answerOf({ code: 'too_many_attempts', retryAfterSeconds: wait }, request.id);
        void reply.headers(answer.headers);
        const errors = { form: `Too many attempts: try again in ${wait} seconds` };
        return sendPage(reply, answer.status, logInPage({ values, errors }, { offer, rd }));
      }
      case 'email_not_verified': {
        const { status } = answerOf({ code: 'email_not_verified' }, request.id);
        return sendPage(reply, status, emailNotVerifiedPage({ email: login.email, rd }));
      }
      case 'second_factor_required':
        // No session yet: the code page finishes the login, rd carried on.
        challengeCookie.set(reply, login.challengeToken);
        return seeOther(reply, withRedirectTarget('/login/code', rd));
      case 'logged_in':
        sessionCookie.set(reply, login.sessionId);
        return seeOther(reply, rd ?? '/account');
    }
  });

  pages.post('/logout', hidden, async (request, reply) => {
    await auth.logout(sessionCookie.read(request), contextOf(request));
    sessionCookie.clear(reply);
    return seeOther(reply, '/?notice=logged_out');
  });
}
