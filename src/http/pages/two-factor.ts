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
import { recoveryCodesPage, twoFactorSetupPage } from '../../web/pages.js';
import { qrCodeFigure } from '../../web/qr.js';
import { contextOf } from '../request-context.js';
import { passwordForms } from './account.js';
import { fieldProblems, fieldsOf, sendPage, type PageContext } from './kit.js';

const WRONG_CODE = 'This code is not right: type the one your app shows now';
const ENTER_PASSWORD = { password: 'Enter your password' };

/** Registers POST /account/totp, /account/totp/confirm, /account/totp/disable and /account/recovery-codes. */
export function registerTwoFactorPages(pages: FastifyInstance, context: PageContext): void {
  const { limited, hidden, seeOther } = context;
  const { auth, sessionCookie } = context.options;
  const passwordForm = passwordForms(context);
  const route = { ...hidden, ...limited('account') };

  pages.post('/account/totp', route, async (request, reply) => {
    const ran = await passwordForm(request, reply, {
      form: 'enable',
      required: ENTER_PASSWORD,
      act: (sessionId, read, requestContext) =>
        auth.twoFactor.beginEnrolment(sessionId, read('password'), requestContext),
    });
    if (ran === null) return reply;
    const pending = ran.outcome;
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
    const confirmed = await auth.twoFactor.confirmEnrolment(
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
    const ran = await passwordForm(request, reply, {
      form: 'regenerate',
      required: ENTER_PASSWORD,
      act: (sessionId, read, requestContext) =>
        auth.twoFactor.regenerateCodes(sessionId, read('password'), requestContext),
    });
    if (ran === null) return reply;
    if (ran.outcome === 'not_enabled') return seeOther(reply, '/account');
    const { recoveryCodes } = ran.outcome;
    return sendPage(reply, 200, recoveryCodesPage({ codes: recoveryCodes, enabled: false }));
  });

  pages.post('/account/totp/disable', route, async (request, reply) => {
    const ran = await passwordForm(request, reply, {
      form: 'disable',
      required: { ...ENTER_PASSWORD, code: 'Enter a code from your app, or a recovery code' },
      act: (sessionId, read, requestContext) =>
        auth.twoFactor.disable(
          sessionId,
          { password: read('password'), code: read('code') },
          requestContext,
        ),
    });
    if (ran === null) return reply;
    if (ran.outcome === 'invalid_code') return ran.again(400, { code: WRONG_CODE });
    if (ran.outcome === 'not_enabled') return seeOther(reply, '/account');
    return seeOther(reply, '/account?notice=two_factor_off');
  });
}
