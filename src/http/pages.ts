/**
 * The web pages' routes: server-rendered HTML forms that post to routes of their own and call the
 * same Auth methods as the API. A refusal re-renders the form with the error next to its field
 * and a 4xx status; a success redirects (303) somewhere sensible. The API routes are untouched.
 *
 * CSRF: no token. Every unsafe request already passes the Origin / Sec-Fetch-Site check of
 * `csrf.ts`, and page posts must moreover carry a browser's proof that they come from one of our
 * own pages (Sec-Fetch-Site: same-origin, or our Origin), which a page elsewhere cannot forge; the
 * session cookie is SameSite=Lax besides, so no cross-site post carries it.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  InvalidEmailError,
  InvalidResetTokenError,
  PasswordPolicyError,
  TooManyAttemptsError,
  UserAlreadyExistsError,
} from '../auth/errors.js';
import type { Auth } from '../auth/service.js';
import type { RateLimitedAction } from '../config.js';
import type { Html } from '../web/html.js';
import {
  accountPage,
  errorPage,
  forgotPasswordPage,
  logInPage,
  NOTICES,
  resetLinkSentPage,
  resetPasswordPage,
  signUpPage,
  welcomePage,
  type Notice,
} from '../web/pages.js';
import { STYLESHEET } from '../web/style.js';
import { comesFromOwnPage, CrossSiteRequestError } from './csrf.js';
import { answerFor, answerOf, handleError } from './errors.js';
import { maxLengthOf } from './field-limits.js';
import type { ActionRateLimits } from './rate-limits.js';
import { contextOf } from './request-context.js';
import type { SessionCookie } from './session-cookie.js';

export interface PageOptions {
  readonly auth: Auth;
  readonly publicUrl: string;
  /** Reads, sets and clears the session cookie. */
  readonly sessionCookie: SessionCookie;
  readonly passwordMinLength: number;
  readonly resetTokenTtl: number;
  readonly rateLimits?: ActionRateLimits;
}

/**
 * No script at all, nothing from elsewhere, no framing; forms post only here. `no-referrer`: the
 * reset page's URL holds a token.
 */
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

function setPageHeaders(reply: FastifyReply): void {
  void reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
  void reply.header('referrer-policy', 'no-referrer');
  void reply.header('x-frame-options', 'DENY');
}

/** True when the client asks for HTML (a browser); API clients do not. */
export function acceptsHtml(request: FastifyRequest): boolean {
  return request.headers.accept?.includes('text/html') ?? false;
}

/** Answers with `page` and the pages' security headers. */
export function sendPage(reply: FastifyReply, status: number, page: Html): FastifyReply {
  setPageHeaders(reply);
  return reply.code(status).type('text/html; charset=utf-8').send(page.text);
}

/** The welcome page, for GET / from a browser. */
export function sendWelcomePage(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendPage(reply, 200, welcomePage(noticeOf(request)));
}

/** Where the emailed reset link lands in a browser: a form; only posting it uses the token. */
export function sendResetPasswordPage(
  request: FastifyRequest,
  reply: FastifyReply,
  options: { passwordMinLength: number },
): FastifyReply {
  const { token } = request.query as { token?: unknown };
  const page = resetPasswordPage({ token: typeof token === 'string' ? token : '' }, options);
  return sendPage(reply, 200, page);
}

function noticeOf(request: FastifyRequest): Notice | undefined {
  const { notice } = request.query as { notice?: unknown };
  return typeof notice === 'string' && Object.hasOwn(NOTICES, notice)
    ? (notice as Notice)
    : undefined;
}

/** A form's text fields; anything absent, repeated or not text reads as empty. */
function fieldsOf(request: FastifyRequest): (name: string) => string {
  const body: unknown = request.body;
  const record = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  return (name) => {
    const value = Object.hasOwn(record, name) ? record[name] : undefined;
    return typeof value === 'string' ? value : '';
  };
}

/**
 * Errors for the fields left empty, in the words of each field (`messages`), and for those longer
 * than the API allows them (field-limits.ts).
 */
function fieldProblems(
  read: (name: string) => string,
  messages: Readonly<Record<string, string>>,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(messages).flatMap(([name, message]) => {
      const value = read(name);
      if (value === '') return [[name, message]];
      const most = maxLengthOf(name);
      return value.length > most ? [[name, `This is too long: at most ${most} characters`]] : [];
    }),
  );
}

/**
 * The status and form errors for a refusal of the Auth service, `fieldOf` placing it on a field
 * (or on the form as a whole); anything a form cannot show is thrown on to the error page.
 */
function refusal(
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
  fieldOf: (error: Error) => string,
): { status: number; errors: Record<string, string> } {
  const shown =
    error instanceof InvalidEmailError ||
    error instanceof PasswordPolicyError ||
    error instanceof UserAlreadyExistsError ||
    error instanceof InvalidResetTokenError ||
    error instanceof TooManyAttemptsError;
  if (!shown) throw error;
  const answer = answerFor(error, request);
  void reply.headers(answer.headers);
  return { status: answer.status, errors: { [fieldOf(error)]: error.message } };
}

export async function registerPages(app: FastifyInstance, options: PageOptions): Promise<void> {
  const { auth, publicUrl, sessionCookie, passwordMinLength, rateLimits } = options;
  const limited = (action: RateLimitedAction) => rateLimits?.[action] ?? {};
  const hidden = { schema: { hide: true } };
  const seeOther = (reply: FastifyReply, location: string) => reply.redirect(location, 303);
  /**
   * What a form of the account page (`form`) works with: the session, the posted fields, and a way
   * to show the page again with that form's errors; null without a signed-in user.
   */
  const accountForm = async (
    request: FastifyRequest,
    reply: FastifyReply,
    form: 'change' | 'remove',
  ) => {
    const sessionId = sessionCookie.read(request);
    const user = await auth.getUserFromSessionId(sessionId);
    if (user === null) return null;
    return {
      sessionId,
      read: fieldsOf(request),
      again: (status: number, errors: Record<string, string>) =>
        sendPage(
          reply,
          status,
          accountPage({
            email: user.email,
            passwordMinLength,
            ...(form === 'change' ? { change: { errors } } : { remove: { errors } }),
          }),
        ),
    };
  };

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
        return sendPage(
          reply,
          400,
          signUpPage({ values, errors: problems }, { passwordMinLength }),
        );
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
          const answer = answerOf(
            { code: 'too_many_attempts', retryAfterSeconds: wait },
            request.id,
          );
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

    pages.get('/account', hidden, async (request, reply) => {
      const user = await auth.getUserFromSessionId(sessionCookie.read(request));
      if (user === null) return seeOther(reply, '/login');
      const notice = noticeOf(request);
      return sendPage(
        reply,
        200,
        accountPage({ email: user.email, passwordMinLength, ...(notice && { notice }) }),
      );
    });

    pages.post(
      '/account/password',
      { ...hidden, ...limited('account') },
      async (request, reply) => {
        const form = await accountForm(request, reply, 'change');
        if (form === null) return seeOther(reply, '/login');
        const { sessionId, read, again } = form;
        const problems = fieldProblems(read, {
          current_password: 'Enter your current password',
          new_password: 'Choose a new password',
        });
        if (Object.keys(problems).length > 0) return again(400, problems);
        let result: Awaited<ReturnType<Auth['changePassword']>>;
        try {
          result = await auth.changePassword(
            sessionId,
            { current: read('current_password'), new: read('new_password') },
            contextOf(request, reply),
          );
        } catch (error) {
          const { status, errors } = refusal(error, request, reply, (refused) =>
            refused instanceof PasswordPolicyError ? 'new_password' : 'form',
          );
          return again(status, errors);
        }
        if (result === 'not_logged_in') return seeOther(reply, '/login');
        if (result === 'wrong_password') {
          return again(401, { current_password: 'This is not your current password' });
        }
        sessionCookie.set(reply, result.sessionId);
        return seeOther(reply, '/account?notice=password_changed');
      },
    );

    pages.post('/account/delete', { ...hidden, ...limited('account') }, async (request, reply) => {
      const form = await accountForm(request, reply, 'remove');
      if (form === null) return seeOther(reply, '/login');
      const { sessionId, read, again } = form;
      const problems = fieldProblems(read, { password: 'Enter your password' });
      if (Object.keys(problems).length > 0) return again(400, problems);
      let result: Awaited<ReturnType<Auth['deleteAccount']>>;
      try {
        result = await auth.deleteAccount(sessionId, read('password'), contextOf(request, reply));
      } catch (error) {
        const { status, errors } = refusal(error, request, reply, () => 'form');
        return again(status, errors);
      }
      if (result === 'not_logged_in') return seeOther(reply, '/login');
      if (result === 'wrong_password') return again(401, { password: 'This is not your password' });
      sessionCookie.clear(reply);
      return seeOther(reply, '/?notice=deleted');
    });

    pages.get('/forgot', hidden, (_request, reply) => sendPage(reply, 200, forgotPasswordPage({})));
    pages.post('/forgot', { ...hidden, ...limited('resetRequest') }, (request, reply) => {
      const read = fieldsOf(request);
      const values = { email: read('email') };
      const problems = fieldProblems(read, { email: 'Enter your email address' });
      if (Object.keys(problems).length > 0) {
        return sendPage(reply, 400, forgotPasswordPage({ values, errors: problems }));
      }
      try {
        // The same answer whether or not the address has an account (see the API's route).
        auth.requestPasswordReset(read('email'), contextOf(request));
      } catch (error) {
        const { status, errors } = refusal(error, request, reply, () => 'email');
        return sendPage(reply, status, forgotPasswordPage({ values, errors }));
      }
      const validMinutes = Math.round(options.resetTokenTtl / 60);
      return sendPage(reply, 200, resetLinkSentPage({ email: read('email'), validMinutes }));
    });

    pages.post('/reset', { ...hidden, ...limited('resetPassword') }, async (request, reply) => {
      const read = fieldsOf(request);
      // Longer than any token: the same refusal as a wrong one, and never echoed into the page.
      const token = read('token').length > maxLengthOf('token') ? '' : read('token');
      const values = { email: read('email') };
      const again = (status: number, errors: Record<string, string>) =>
        sendPage(
          reply,
          status,
          resetPasswordPage({ token, values, errors }, { passwordMinLength }),
        );
      const problems = fieldProblems(read, {
        email: 'Enter the email address of your account',
        new_password: 'Choose a new password',
      });
      if (Object.keys(problems).length > 0) return again(400, problems);
      try {
        await auth.updatePassword(token, read('new_password'), {
          email: read('email'),
          context: contextOf(request),
        });
      } catch (error) {
        const { status, errors } = refusal(error, request, reply, (refused) =>
          refused instanceof PasswordPolicyError ? 'new_password' : 'form',
        );
        if (error instanceof InvalidResetTokenError) {
          errors.form =
            'This link is invalid, has expired or was already used, or the email address is not its account’s. Ask for a new link if needed.';
        }
        return again(status, errors);
      }
      return seeOther(reply, '/login?notice=password_reset');
    });
    done();
  });
}
