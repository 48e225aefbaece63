/**
 * The pages of proven addresses: the pages the emailed links open (GET, from the API's routes:
 * they only show a button), the posts of those buttons, asking for a new link, and the account
 * page's "Change email" form. The Auth service decides everything; this file translates.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { EmailUnavailableError, InvalidEmailTokenError } from '../../auth/errors.js';
import {
  checkInboxPage,
  confirmEmailChangePage,
  verifyEmailPage,
  type AddressView,
} from '../../web/address-pages.js';
import type { Account, Auth } from '../../auth/service.js';
import { answerFor } from '../errors.js';
import { maxLengthOf } from '../field-limits.js';
import { contextOf } from '../request-context.js';
import { passwordForms } from './account.js';
import { fieldProblems, fieldsOf, refusal, sendPage, type PageContext } from './kit.js';

/** The token of a link's URL, as a page may carry it: '' when absent, repeated or too long. */
function queriedToken(request: FastifyRequest): string {
  const { token } = request.query as { token?: unknown };
  return typeof token === 'string' && token.length <= maxLengthOf('token') ? token : '';
}

/** Where the verification link lands in a browser: a button; only pressing it uses the token. */
export function sendVerifyEmailPage(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendPage(reply, 200, verifyEmailPage({ token: queriedToken(request) }));
}

/** Where the address-change link lands in a browser: a button, likewise. */
export function sendConfirmEmailChangePage(
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  return sendPage(reply, 200, confirmEmailChangePage({ token: queriedToken(request) }));
}

/** What the account page shows of `account`'s address. */
export function addressViewOf(auth: Auth, account: Account): AddressView {
  return {
    email: account.email,
    verified: account.emailVerified,
    sendsLinks: auth.addresses.verification.sendsLinks,
  };
}

/** The "check your inbox" page for `email`. */
export function sendCheckInboxPage(
  reply: FastifyReply,
  email: string,
  validitySeconds: number,
): FastifyReply {
  return sendPage(reply, 200, checkInboxPage({ email, validSeconds: validitySeconds }));
}

/** Registers POST /verify, /verify/resend, /confirm_email and /account/email on `pages`. */
export function registerAddressPages(pages: FastifyInstance, context: PageContext): void {
  const { limited, hidden, seeOther } = context;
  const { auth, sessionCookie } = context.options;
  const passwordForm = passwordForms(context);
  const validity = context.options.emailVerificationTtl;
  /** Where a confirmed link leads: the account page with a live session, else the login page. */
  const onward = async (request: FastifyRequest, notice: string) =>
    (await auth.getUserFromSessionId(sessionCookie.read(request))) === null
      ? `/login?notice=${notice}`
      : `/account?notice=${notice}`;
  const tokenOf = (request: FastifyRequest) => {
    const token = fieldsOf(request)('token');
    return token.length > maxLengthOf('token') ? '' : token;
  };

  pages.post('/verify', { ...hidden, ...limited('resetPassword') }, async (request, reply) => {
    const token = tokenOf(request);
    try {
      await auth.addresses.verification.verify(token, contextOf(request));
    } catch (error) {
      if (!(error instanceof InvalidEmailTokenError)) throw error;
      const { status } = answerFor(error, request);
      const form =
        'This link is invalid, has expired or was already used. If your address is not verified yet, ask for a new link.';
      return sendPage(reply, status, verifyEmailPage({ token, errors: { form } }));
    }
    return seeOther(reply, await onward(request, 'email_verified'));
  });

  pages.post('/verify/resend', { ...hidden, ...limited('resetRequest') }, (request, reply) => {
    const read = fieldsOf(request);
    const problems = fieldProblems(read, { email: 'Enter your email address' });
    const values = { email: read('email') };
    if (Object.keys(problems).length > 0) {
      return sendPage(reply, 400, verifyEmailPage({ token: '', values, errors: problems }));
    }
    try {
      // The same answer whatever the address (see the API's route).
      auth.addresses.verification.resend(read('email'), contextOf(request));
    } catch (error) {
      const { status, errors } = refusal(error, request, reply, () => 'email');
      return sendPage(reply, status, verifyEmailPage({ token: '', values, errors }));
    }
    return sendCheckInboxPage(reply, read('email'), validity);
  });

  pages.post(
    '/confirm_email',
    { ...hidden, ...limited('resetPassword') },
    async (request, reply) => {
      const token = tokenOf(request);
      try {
        await auth.addresses.change.confirm(token, contextOf(request));
      } catch (error) {
        if (!(error instanceof InvalidEmailTokenError || error instanceof EmailUnavailableError)) {
          throw error;
        }
        const { status } = answerFor(error, request);
        const form =
          error instanceof EmailUnavailableError
            ? 'This address belongs to another account now, so nothing changed.'
            : 'This link is invalid, has expired or was already used. Ask for the change again on your account page if needed.';
        return sendPage(reply, status, confirmEmailChangePage({ token, errors: { form } }));
      }
      return seeOther(reply, await onward(request, 'email_changed'));
    },
  );

  pages.post('/account/email', { ...hidden, ...limited('account') }, async (request, reply) => {
    const ran = await passwordForm(request, reply, {
      form: 'changeEmail',
      // The password may be left out only by an account without one, which the service checks.
      required: { new_email: 'Enter the new email address' },
      withoutPassword: {
        field: 'new_email',
        stale: 'Log in again with your passkey, then change the address within 10 minutes',
      },
      refusedField: () => 'new_email',
      act: (sessionId, read, requestContext) =>
        auth.addresses.change.request(
          sessionId,
          { password: read('password'), newEmail: read('new_email') },
          requestContext,
        ),
    });
    if (ran === null) return reply;
    return seeOther(reply, '/account?notice=email_change_sent');
  });
}
