/**
 * The password reset pages: asking for a link (/forgot) and choosing a new password with it
 * (the page at the emailed link, posting to /reset). Like the sign-in pages they carry `rd` (see
 * sign-in.ts), so that a completed reset leads to the login page with it.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidResetTokenError, PasswordPolicyError } from '../../auth/errors.js';
import { withRedirectTarget } from '../../web/components.js';
import { forgotPasswordPage, resetLinkSentPage, resetPasswordPage } from '../../web/pages.js';
import { maxLengthOf } from '../field-limits.js';
import { safeRedirectTarget, type RedirectTargetSettings } from '../redirect-target.js';
import { contextOf } from '../request-context.js';
import {
  fieldProblems,
  fieldsOf,
  queriedRedirectTarget,
  refusal,
  sendPage,
  type PageContext,
} from './kit.js';

/** Where the emailed reset link lands in a browser: a form; only posting it uses the token. */
export function sendResetPasswordPage(
  request: FastifyRequest,
  reply: FastifyReply,
  options: { passwordMinLength: number; redirectTargets: RedirectTargetSettings },
): FastifyReply {
  const { token } = request.query as { token?: unknown };
  const { passwordMinLength, redirectTargets } = options;
  const rd = safeRedirectTarget(queriedRedirectTarget(request), redirectTargets);
  const page = resetPasswordPage(
    { token: typeof token === 'string' ? token : '' },
    { passwordMinLength, rd },
  );
  return sendPage(reply, 200, page);
}

/** Registers GET and POST /forgot and POST /reset on `pages`. */
export function registerResetPages(pages: FastifyInstance, context: PageContext): void {
  const { limited, hidden, seeOther, redirectTarget } = context;
  const { auth, passwordMinLength } = context.options;

  pages.get('/forgot', hidden, (request, reply) => {
    const rd = redirectTarget(queriedRedirectTarget(request));
    return sendPage(reply, 200, forgotPasswordPage({}, { rd }));
  });
  pages.post('/forgot', { ...hidden, ...limited('resetRequest') }, (request, reply) => {
    const read = fieldsOf(request);
    const rd = redirectTarget(read('rd'));
    const values = { email: read('email') };
    const problems = fieldProblems(read, { email: 'Enter your email address' });
    if (Object.keys(problems).length > 0) {
      return sendPage(reply, 400, forgotPasswordPage({ values, errors: problems }, { rd }));
    }
    try {
      // The same answer whether or not the address has an account (see the API's route).
      auth.requestPasswordReset(read('email'), contextOf(request), {
        ...(rd !== undefined && { returnTo: rd }),
      });
    } catch (error) {
      const { status, errors } = refusal(error, request, reply, () => 'email');
      return sendPage(reply, status, forgotPasswordPage({ values, errors }, { rd }));
    }
    const validMinutes = Math.round(context.options.resetTokenTtl / 60);
    return sendPage(reply, 200, resetLinkSentPage({ email: read('email'), validMinutes, rd }));
  });

  pages.post('/reset', { ...hidden, ...limited('resetPassword') }, async (request, reply) => {
    const read = fieldsOf(request);
    // Longer than any token: the same refusal as a wrong one, and never echoed into the page.
    const token = read('token').length > maxLengthOf('token') ? '' : read('token');
    const rd = redirectTarget(read('rd'));
    const values = { email: read('email') };
    const again = (status: number, errors: Record<string, string>) =>
      sendPage(
        reply,
        status,
        resetPasswordPage({ token, values, errors }, { passwordMinLength, rd }),
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
    return seeOther(reply, withRedirectTarget('/login?notice=password_reset', rd));
  });
}
