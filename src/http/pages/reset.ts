/**
 * The password reset pages: asking for a link (/forgot) and choosing a new password with it
 * (the page at the emailed link, posting to /reset).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidResetTokenError, PasswordPolicyError } from '../../auth/errors.js';
import { forgotPasswordPage, resetLinkSentPage, resetPasswordPage } from '../../web/pages.js';
import { maxLengthOf } from '../field-limits.js';
import { contextOf } from '../request-context.js';
import { fieldProblems, fieldsOf, refusal, sendPage, type PageContext } from './kit.js';

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

/** Registers GET and POST /forgot and POST /reset on `pages`. */
export function registerResetPages(pages: FastifyInstance, context: PageContext): void {
  const { limited, hidden, seeOther } = context;
  const { auth, passwordMinLength } = context.options;

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
    const validMinutes = Math.round(context.options.resetTokenTtl / 60);
    return sendPage(reply, 200, resetLinkSentPage({ email: read('email'), validMinutes }));
  });

  pages.post('/reset', { ...hidden, ...limited('resetPassword') }, async (request, reply) => {
    const read = fieldsOf(request);
    // Longer than any token: the same refusal as a wrong one, and never echoed into the page.
    const token = read('token').length > maxLengthOf('token') ? '' : read('token');
    const values = { email: read('email') };
    const again = (status: number, errors: Record<string, string>) =>
      sendPage(reply, status, resetPasswordPage({ token, values, errors }, { passwordMinLength }));
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
}
