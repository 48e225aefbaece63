/**
 * The account page's two-factor forms: turning it on (the password, then the setup page with the
 * QR code and the secret, then the first code), the recovery codes shown once, new ones, and
 * turning it off. Each needs a live session (without one: the login page) and calls the same Auth
 * methods as the API; a refusal shows the form again with the error next to its field.
 *
 * The secret is shown only in the answer to the post that made it, never put in a URL nor a form
 * field: after a wrong first code the page asks again without it (the app has it already).
 */
import type { FastifyInstance } from 'fastify';
import type { Auth } from '../../auth/service.js';
import { recoveryCodesPage, twoFactorSetupPage } from '../../web/pages.js';
import { qrCodeFigure } from '../../web/qr.js';
import { contextOf } from '../request-context.js';
import { accountForms } from './account.js';
import { fieldProblems, fieldsOf, refusal, sendPage, type PageContext } from './kit.js';

const WRONG_PASSWORD = 'This is not your password';
const WRONG_CODE = 'This code is not right: type the one your app shows now';
const ENTER_PASSWORD = { password: 'Enter your password' };

/** Registers POST /account/totp, /account/totp/confirm, /account/totp/disable and /account/recovery-codes. */
export function registerTwoFactorPages(pages: FastifyInstance, context: PageContext): void {
  const { limited, hidden, seeOther } = context;
  const { auth, sessionCookie } = context.options;
  const accountForm = accountForms(context);
  const route = { ...hidden, ...limited('account') };

  pages.post('/account/totp', route, async (request, reply) => {
    const form = await accountForm(request, reply, 'enable');
    if (form === null) return seeOther(reply, '/login');
    const { sessionId, read, again } = form;
    const problems = fieldProblems(read, ENTER_PASSWORD);
    if (Object.keys(problems).length > 0) return again(400, problems);
    let pending: Awaited<ReturnType<Auth['beginTwoFactorEnrolment']>>;
    try {
      pending = await auth.beginTwoFactorEnrolment(
        sessionId,
        read('password'),
        contextOf(request, reply),
      );
    } catch (error) {
      const { status, errors } = refusal(error, request, reply, () => 'form');
      return again(status, errors);
    }
    if (pending === 'not_logged_in') return seeOther(reply, '/login');
    if (pending === 'wrong_password') return again(401, { password: WRONG_PASSWORD });
    if (pending === 'already_enabled') return seeOther(reply, '/account');
    const qrCode = await qrCodeFigure(pending.otpauthUrl);
    return sendPage(reply, 200, twoFactorSetupPage({ setup: { secret: pending.secret, qrCode } }));
  });

  pages.post('/account/totp/confirm', route, async (request, reply) => {
    const read = fieldsOf(request);
    const retry = (status: number, code: string) =>
      sendPage(reply, status, twoFactorSetupPage({ confirm: { errors: { code } } }));
    const problems = fieldProblems(read, { code: 'Enter the code your app shows' });
    if (problems.code !== undefined) return retry(400, problems.code);
    const confirmed = await auth.confirmTwoFactorEnrolment(
      sessionCookie.read(request),
      read('code'),
      contextOf(request),
    );
    if (confirmed === 'not_logged_in') return seeOther(reply, '/login');
    if (confirmed === 'not_pending') return seeOther(reply, '/account');
    if (confirmed === 'invalid_code') return retry(400, WRONG_CODE);
    return sendPage(
      reply,
      200,
      recoveryCodesPage({ codes: confirmed.recoveryCodes, enabled: true }),
    );
  });

  pages.post('/account/recovery-codes', route, async (request, reply) => {
    const form = await accountForm(request, reply, 'regenerate');
    if (form === null) return seeOther(reply, '/login');
    const { sessionId, read, again } = form;
    const problems = fieldProblems(read, ENTER_PASSWORD);
    if (Object.keys(problems).length > 0) return again(400, problems);
    let replaced: Awaited<ReturnType<Auth['regenerateRecoveryCodes']>>;
    try {
      replaced = await auth.regenerateRecoveryCodes(
        sessionId,
        read('password'),
        contextOf(request, reply),
      );
    } catch (error) {
      const { status, errors } = refusal(error, request, reply, () => 'form');
      return again(status, errors);
    }
    if (replaced === 'not_logged_in') return seeOther(reply, '/login');
    if (replaced === 'wrong_password') return again(401, { password: WRONG_PASSWORD });
    if (replaced === 'not_enabled') return seeOther(reply, '/account');
    return sendPage(
      reply,
      200,
      recoveryCodesPage({ codes: replaced.recoveryCodes, enabled: false }),
    );
  });

  pages.post('/account/totp/disable', route, async (request, reply) => {
    const form = await accountForm(request, reply, 'disable');
    if (form === null) return seeOther(reply, '/login');
    const { sessionId, read, again } = form;
    const problems = fieldProblems(read, {
      ...ENTER_PASSWORD,
      code: 'Enter a code from your app, or a recovery code',
    });
    if (Object.keys(problems).length > 0) return again(400, problems);
    let disabled: Awaited<ReturnType<Auth['disableTwoFactor']>>;
    try {
      disabled = await auth.disableTwoFactor(
        sessionId,
        { password: read('password'), code: read('code') },
        contextOf(request, reply),
      );
    } catch (error) {
      const { status, errors } = refusal(error, request, reply, () => 'form');
      return again(status, errors);
    }
    if (disabled === 'not_logged_in') return seeOther(reply, '/login');
    if (disabled === 'wrong_password') return again(401, { password: WRONG_PASSWORD });
    if (disabled === 'invalid_code') return again(400, { code: WRONG_CODE });
    if (disabled === 'not_enabled') return seeOther(reply, '/account');
    return seeOther(reply, '/account?notice=two_factor_off');
  });
}
