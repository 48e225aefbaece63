/**
 * The account pages: the signed-in user's account and its devices, ending sessions, changing the
 * password and deleting the account (two-factor authentication's forms are in two-factor.ts).
 * Each needs a live session; without one they redirect to the login page.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PasswordPolicyError } from '../../auth/errors.js';
import type { Auth } from '../../auth/service.js';
import type { FormState, PasskeysView, TwoFactorView } from '../../web/pages.js';
import { accountPage } from '../../web/pages.js';
import type { RequestContext } from '../../auth/audit.js';
import { contextOf } from '../request-context.js';
import { addressViewOf } from './addresses.js';
import { fieldProblems, fieldsOf, noticeOf, refusal, sendPage, type PageContext } from './kit.js';

/** The forms of the account page, each of which may be shown again with its errors. */
export type AccountForm = 'change' | 'remove' | 'enable' | 'regenerate' | 'disable' | 'changeEmail';

/** What the account page shows of the two-factor authentication of account `userId`. */
async function twoFactorViewOf(
  auth: Auth,
  userId: number,
  shownAgain: Partial<Record<AccountForm, FormState>> = {},
): Promise<TwoFactorView> {
  const { enabled, recoveryCodesLeft } = await auth.twoFactor.status(userId);
  const { enable, regenerate, disable } = shownAgain;
  return {
    available: auth.twoFactor.available,
    enabled,
    recoveryCodesLeft,
    ...(enable && { enable }),
    ...(regenerate && { regenerate }),
    ...(disable && { disable }),
  };
}

/** What the account page shows of the passkeys of account `userId`. */
async function passkeysViewOf(auth: Auth, userId: number): Promise<PasskeysView> {
  const { passkeys, hasPassword, at } = await auth.passkeys.overview(userId);
  return { passkeys, hasPassword, now: at };
}

/**
 * A way to get what a form of the account page (`form`) works with: the session, the posted
 * fields, and a way to show the page again with that form's errors; null without a signed-in user.
 */
/** Shows the account page again with a form's errors. */
export type Again = (status: number, errors: Record<string, string>) => Promise<unknown>;

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
            address: addressViewOf(auth, user),
            ...(devices !== 'not_logged_in' && { devices }),
            ...shownAgain,
            twoFactor: await twoFactorViewOf(auth, user.id, shownAgain),
            passkeys: await passkeysViewOf(auth, user.id),
          }),
        );
      },
    };
  };
}

/**
 * What every password-confirmed action of the Auth service may answer besides its own outcomes;
 * the last two only where an account without a password may leave it out (auth/password-confirmation.ts).
 */
type Unconfirmed =
  'not_logged_in' | 'wrong_password' | 'password_required' | 'recent_login_required';

/** A password-confirmed account form: its fields, its call, and where its refusals show. */
export interface PasswordFormSpec<Outcome> {
  readonly form: AccountForm;
  /** The fields that must not be empty, each with the message shown when it is. */
  readonly required: Readonly<Record<string, string>>;
  /** The field the password is typed in, and what it says when the password is wrong. */
  readonly password?: { readonly field: string; readonly wrong: string };
  /**
   * For a form an account without a password (passkey-only) sends without one: where, and in
   * what words, a session too old to stand in for it is refused. The password may then be empty.
   */
  readonly withoutPassword?: { readonly field: string; readonly stale: string };
  /** Which field a refusal of the service is shown beside; the form's by default. */
  readonly refusedField?: (error: Error) => string;
  readonly act: (
    sessionId: string | undefined,
    read: (name: string) => string,
    context: RequestContext,
  ) => Promise<Outcome | Unconfirmed>;
}

/**
 * A way to run a form of the account page that the password confirms: it checks the fields, calls
 * `act`, and answers what all such forms answer alike (no session: the login page; empty or too
 * long fields, a wrong password, a refusal: the page again with the error beside its field). Any
 * other outcome is handed back with the way to show the page again, or null once answered.
 */
export function passwordForms(context: PageContext) {
  const accountForm = accountForms(context);
  const { seeOther } = context;
  return async <Outcome>(
    request: FastifyRequest,
    reply: FastifyReply,
    spec: PasswordFormSpec<Outcome>,
  ): Promise<{ outcome: Exclude<Outcome, Unconfirmed>; again: Again } | null> => {
    const form = await accountForm(request, reply, spec.form);
    if (form === null) {
      await seeOther(reply, '/login');
      return null;
    }
    const { sessionId, read, again } = form;
    const passwordField = (spec.password ?? PASSWORD).field;
    const problems = fieldProblems(
      read,
      spec.required,
      spec.withoutPassword ? [passwordField] : [],
    );
    if (Object.keys(problems).length > 0) {
      await again(400, problems);
      return null;
    }
    let outcome: Outcome | Unconfirmed;
    try {
      outcome = await spec.act(sessionId, read, contextOf(request, reply));
    } catch (error) {
      const { status, errors } = refusal(
        error,
        request,
        reply,
        spec.refusedField ?? (() => 'form'),
      );
      await again(status, errors);
      return null;
    }
    if (outcome === 'not_logged_in') {
      await seeOther(reply, '/login');
      return null;
    }
    if (outcome === 'wrong_password') {
      const { field, wrong } = spec.password ?? PASSWORD;
      await again(401, { [field]: wrong });
      return null;
    }
    if (outcome === 'password_required') {
      await again(400, { [passwordField]: 'Enter your password' });
      return null;
    }
    if (outcome === 'recent_login_required') {
      const { field, stale } = spec.withoutPassword ?? { field: 'form', stale: 'Log in again' };
      await again(403, { [field]: stale });
      return null;
    }
    return { outcome: outcome as Exclude<Outcome, Unconfirmed>, again };
  };
}

/** The account forms' usual password field. */
const PASSWORD = { field: 'password', wrong: 'This is not your password' };

/** Registers GET /account and the account page's forms on `pages`. */
export function registerAccountPages(pages: FastifyInstance, context: PageContext): void {
  const { limited, hidden, seeOther } = context;
  const { auth, sessionCookie, passwordMinLength } = context.options;
  const passwordForm = passwordForms(context);

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
        address: addressViewOf(auth, user),
        devices,
        twoFactor: await twoFactorViewOf(auth, user.id),
        passkeys: await passkeysViewOf(auth, user.id),
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
    const ran = await passwordForm(request, reply, {
      form: 'change',
      required: {
        current_password: 'Enter your current password',
        new_password: 'Choose a new password',
      },
      password: { field: 'current_password', wrong: 'This is not your current password' },
      refusedField: (refused) => (refused instanceof PasswordPolicyError ? 'new_password' : 'form'),
      act: (sessionId, read, requestContext) =>
        auth.changePassword(
          sessionId,
          { current: read('current_password'), new: read('new_password') },
          requestContext,
        ),
    });
    if (ran === null) return reply;
    sessionCookie.set(reply, ran.outcome.sessionId);
    return seeOther(reply, '/account?notice=password_changed');
  });

  pages.post('/account/delete', { ...hidden, ...limited('account') }, async (request, reply) => {
    // The password may be left out only by an account without one, which the service checks.
    const ran = await passwordForm(request, reply, {
      form: 'remove',
      required: {},
      withoutPassword: {
        field: 'form',
        stale: 'Log in again with your passkey, then delete the account within 10 minutes',
      },
      act: (sessionId, read, requestContext) =>
        auth.deleteAccount(sessionId, read('password'), requestContext),
    });
    if (ran === null) return reply;
    sessionCookie.clear(reply);
    return seeOther(reply, '/?notice=deleted');
  });
}
