/**
 * The sign-in pages: the welcome page, sign-up, login and logout. A login's outcomes are
 * translated here for browsers, as routes.ts translates them for the API.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PasswordPolicyError, UserAlreadyExistsError } from '../../auth/errors.js';
import { logInPage, signUpPage, welcomePage } from '../../web/pages.js';
import { answerOf } from '../errors.js';
import { contextOf } from '../request-context.js';
import { fieldProblems, fieldsOf, noticeOf, refusal, sendPage, type PageContext } from './kit.js';

/** The welcome page, for GET / from a browser. */
export function sendWelcomePage(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendPage(reply, 200, welcomePage(noticeOf(request)));
}

/** Registers GET and POST /signup and /login, and POST /logout, on `pages`. */
export function registerSignInPages(pages: FastifyInstance, context: PageContext): void {
  const { limited, hidden, seeOther } = context;
  const { auth, sessionCookie, passwordMinLength } = context.options;

  pages.get('/signup', hidden, (_request, reply) =>
    sendPage(reply, 200, signUpPage({}, { passwordMinLength })),
  );
  pages.post('/signup', { ...hidden, ...limited('signUp') }, async (request, reply) => {
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
    sendPage(reply, 200, logInPage({}, noticeOf(request))),
  );
  pages.post('/login', { ...hidden, ...limited('login') }, async (request, reply) => {
    const read = fieldsOf(request);
    const values = { email: read('email') };
    const problems = fieldProblems(read, {
      email: 'Enter your email address',
      password: 'Enter your password',
    });
    if (Object.keys(problems).length > 0) {
      return sendPage(reply, 400, logInPage({ values, errors: problems }));
    }
    const login = await auth.login(read('email'), read('password'), contextOf(request, reply));
    switch (login.outcome) {
      case 'refused': {
        const errors = { password: 'Wrong email or password' };
        const { status } = answerOf({ code: 'invalid_credentials' }, request.id);
        return sendPage(reply, status, logInPage({ values, errors }));
      }
      case 'throttled': {
        const wait = login.retryAfterSeconds;
        const answer = answerOf({ code: 'too_many_attempts', retryAfterSeconds: wait }, request.id);
        void reply.headers(answer.headers);
        const errors = { form: `Too many attempts: try again in ${wait} seconds` };
        return sendPage(reply, answer.status, logInPage({ values, errors }));
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
