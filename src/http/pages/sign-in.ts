/**
 * The sign-in pages: the welcome page, sign-up, login and logout. A login's outcomes are
 * translated here for browsers, as routes.ts translates them for the API. While sign-up is
 * closed, no page links to the sign-up form, and the form's page says sign-up is closed.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  PasswordPolicyError,
  SignUpClosedError,
  UserAlreadyExistsError,
} from '../../auth/errors.js';
import type { Auth } from '../../auth/service.js';
import {
  logInPage,
  signUpClosedPage,
  signUpPage,
  welcomePage,
  type SignUpOffer,
} from '../../web/pages.js';
import { answerOf } from '../errors.js';
import { contextOf } from '../request-context.js';
import { fieldProblems, fieldsOf, noticeOf, refusal, sendPage, type PageContext } from './kit.js';

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
  const { limited, hidden, seeOther } = context;
  const { auth, sessionCookie, passwordMinLength } = context.options;
  const offer = offerOf(auth);

  pages.get('/signup', hidden, (_request, reply) =>
    auth.signUpOpen
      ? sendPage(reply, 200, signUpPage({}, { passwordMinLength }))
      : sendPage(reply, 200, signUpClosedPage()),
  );
  pages.post('/signup', { ...hidden, ...limited('signUp') }, async (request, reply) => {
    const closed = () =>
      sendPage(reply, answerOf({ code: 'signup_closed' }, request.id).status, signUpClosedPage());
    // Closed: the same answer whatever the form holds, before any field is read.
    if (!auth.signUpOpen) return closed();
    const read = fieldsOf(request);
    const values = { email: read('email') };
    const problems = fieldProblems(read, {
      email: 'Enter your email address',
      password: 'Choose a password',
    });
    if (Object.keys(problems).length > 0) {
      return sendPage(reply, 400, signUpPage({ values, errors: problems }, { passwordMinLength }));
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
      return sendPage(reply, status, signUpPage({ values, errors }, { passwordMinLength }));
    }
    return seeOther(reply, '/login?notice=created');
  });

  pages.get('/login', hidden, (request, reply) =>
    sendPage(reply, 200, logInPage({}, offer, noticeOf(request))),
  );
  pages.post('/login', { ...hidden, ...limited('login') }, async (request, reply) => {
    const read = fieldsOf(request);
    const values = { email: read('email') };
    const problems = fieldProblems(read, {
      email: 'Enter your email address',
      password: 'Enter your password',
    });
    if (Object.keys(problems).length > 0) {
      return sendPage(reply, 400, logInPage({ values, errors: problems }, offer));
    }
    const login = await auth.login(read('email'), read('password'), contextOf(request, reply));
    switch (login.outcome) {
      case 'refused': {
        const errors = { password: 'Wrong email or password' };
        const { status } = answerOf({ code: 'invalid_credentials' }, request.id);
        return sendPage(reply, status, logInPage({ values, errors }, offer));
      }
      case 'throttled': {
        const wait = login.retryAfterSeconds;
        const answer = answerOf({ code: 'too_many_attempts', retryAfterSeconds: wait }, request.id);
        void reply.headers(answer.headers);
        const errors = { form: `Too many attempts: try again in ${wait} seconds` };
        return sendPage(reply, answer.status, logInPage({ values, errors }, offer));
      }
      case 'logged_in':
        sessionCookie.set(reply, login.sessionId);
        return seeOther(reply, '/account');
    }
  });

  pages.post('/logout', hidden, async (request, reply) => {
    await auth.logout(sessionCookie.read(request), contextOf(request));
    sessionCookie.clear(reply);
    return seeOther(reply, '/?notice=logged_out');
  });
}
