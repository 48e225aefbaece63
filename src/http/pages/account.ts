/**
 * The account pages: the signed-in user's account and its devices, ending sessions, changing the
 * password and deleting the account (two-factor authentication's forms are in two-factor.ts).
 * Each needs a live session; without one they redirect to the login page.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PasswordPolicyError } from '../../auth/errors.js';
import type { Auth } from '../../auth/service.js';
import type { FormState, TwoFactorView } from '../../web/pages.js';
import { accountPage } from '../../web/pages.js';
import { contextOf } from '../request-context.js';
import { fieldProblems, fieldsOf, noticeOf, refusal, sendPage, type PageContext } from './kit.js';

/** The forms of the account page, each of which may be shown again with its errors. */
export type AccountForm = 'change' | 'remove' | 'enable' | 'regenerate' | 'disable';

/** What the account page shows of the two-factor authentication of account `userId`. */
async function twoFactorViewOf(
  auth: Auth,
  userId: number,
  shownAgain: Partial<Record<AccountForm, FormState>> = {},
): Promise<TwoFactorView> {
  const { enabled, recoveryCodesLeft } = await auth.twoFactorStatus(userId);
  const { enable, regenerate, disable } = shownAgain;
  return {
    available: auth.twoFactorAvailable,
    enabled,
    recoveryCodesLeft,
    ...(enable && { enable }),
    ...(regenerate && { regenerate }),
    ...(disable && { disable }),
  };
}

/**
 * A way to get what a form of the account page (`form`) works with: the session, the posted
 * fields, and a way to show the page again with that form's errors; null without a signed-in user.
 */
export function accountForms(context: PageContext) {
  const { auth, sessionCookie, passwordMinLength } = context.options;
  return async (request: FastifyRequest, reply: FastifyReply, form: AccountForm) => {
    const sessionId = sessionCookie.read(request);
    const user = await auth.getUserFromSessionId(sessionId);
    if (user === null) return null;
    return {
      sessionId,
      read: fieldsOf(request),
      again: async (status: number, errors: Record<string, string>) => {
        const devices = await auth.listSessions(sessionId);
        const shownAgain = { [form]: { errors } };
        return sendPage(
          reply,
          status,
          accountPage({
            email: user.email,
            passwordMinLength,
            ...(devices !== 'not_logged_in' && { devices }),
            ...shownAgain,
            twoFactor: await twoFactorViewOf(auth, user.id, shownAgain),
          }),
        );
      },
    };
  };
}

/** Registers GET /account and the account page's forms on `pages`. */
export function registerAccountPages(pages: FastifyInstance, context: PageContext): void {
  const { limited, hidden, seeOther } = context;
  const { auth, sessionCookie, passwordMinLength } = context.options;
  const accountForm = accountForms(context);

  pages.get('/account', hidden, async (request, reply) => {
    const sessionId = sessionCookie.read(request);
    const user = await auth.getUserFromSessionId(sessionId);
    const devices = user === null ? 'not_logged_in' : await auth.listSessions(sessionId);
    if (user === null || devices === 'not_logged_in') return seeOther(reply, '/login');
    const notice = noticeOf(request);
    return sendPage(
      reply,
      200,
      accountPage({
        email: user.email,
        passwordMinLength,
        devices,
        twoFactor: await twoFactorViewOf(auth, user.id),
        ...(notice && { notice }),
      }),
    );
  });

  // Ends one session of the account, named by its public id (a hidden field of its button).
  pages.post(
    '/account/sessions/end',
    { ...hidden, ...limited('account') },
    async (request, reply) => {
      const id = fieldsOf(request)('id');
      const result = await auth.revokeSession(sessionCookie.read(request), id, contextOf(request));
      if (result === 'not_logged_in') return seeOther(reply, '/login');
      if (result === 'not_found') return seeOther(reply, '/account?notice=session_gone');
      if (result.endedCurrent) {
        sessionCookie.clear(reply);
        return seeOther(reply, '/?notice=logged_out');
      }
      return seeOther(reply, '/account?notice=session_ended');
    },
  );

  pages.post(
    '/account/sessions/end-others',
    { ...hidden, ...limited('account') },
    async (request, reply) => {
      const ended = await auth.revokeOtherSessions(sessionCookie.read(request), contextOf(request));
      if (ended === 'not_logged_in') return seeOther(reply, '/login');
      return seeOther(reply, '/account?notice=others_ended');
    },
  );

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
