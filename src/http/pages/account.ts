/**
 * The account pages: the signed-in user's account, changing its password and deleting it. Each
 * needs a live session; without one they redirect to the login page.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PasswordPolicyError } from '../../auth/errors.js';
import type { Auth } from '../../auth/service.js';
import { accountPage } from '../../web/pages.js';
import { contextOf } from '../request-context.js';
import { fieldProblems, fieldsOf, noticeOf, refusal, sendPage, type PageContext } from './kit.js';

/** Registers GET /account and POST /account/password and /account/delete on `pages`. */
export function registerAccountPages(pages: FastifyInstance, context: PageContext): void {
  const { limited, hidden, seeOther } = context;
  const { auth, sessionCookie, passwordMinLength } = context.options;
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

  pages.post('/account/password', { ...hidden, ...limited('account') }, async (request, reply) => {
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
  });

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
}
