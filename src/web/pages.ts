/**
 * The web pages, as functions from what they show to HTML (built from components.ts). They work
 * without JavaScript: plain forms posting to the service's own page routes. The sign-in and reset
 * pages have files of their own; the account page and the error page are here.
 */
import type { SessionView } from '../auth/sessions.js';
import {
  form,
  hasErrors,
  layout,
  noticeBox,
  type FieldSpec,
  type FormState,
  type Notice,
} from './components.js';
import { devicesSection } from './devices.js';
import { html, type Html } from './html.js';
import { addressHasErrors, addressSection, type AddressView } from './address-pages.js';
import { twoFactorHasErrors, twoFactorSection, type TwoFactorView } from './two-factor.js';
import { PASSKEY_SCRIPTS, passkeysSection, type PasskeysView } from './passkeys.js';

export { NOTICES, type FormState, type Notice } from './components.js';
export * from './reset-pages.js';
export * from './second-factor-pages.js';
export * from './sign-in-pages.js';
export * from './two-factor.js';
export * from './address-pages.js';
export type { PasskeysView } from './passkeys.js';

export function accountPage(options: {
  email: string;
  passwordMinLength: number;
  change?: FormState;
  remove?: FormState;
  notice?: Notice;
  /** The account's live sessions, for "Your devices". */
  devices?: { readonly sessions: readonly SessionView[]; readonly at: Date };
  /** The two-factor section; left out when absent. */
  twoFactor?: TwoFactorView;
  /** The address section (its state, resend, "Change email"); left out when absent. */
  address?: AddressView;
  changeEmail?: FormState;
  /** The passkeys section; left out when absent. */
  passkeys?: PasskeysView;
}): Html {
  const change = options.change ?? {};
  const remove = options.remove ?? {};
  const changeFields: FieldSpec[] = [
    {
      form: 'change',
      name: 'current_password',
      label: 'Current password',
      type: 'password',
      autocomplete: 'current-password',
    },
    {
      form: 'change',
      name: 'new_password',
      label: 'New password',
      type: 'password',
      autocomplete: 'new-password',
      hint: `At least ${options.passwordMinLength} characters.`,
    },
  ];
  // An account without a password (passkey-only) is deleted after a recent login instead.
  const withPassword = options.passkeys?.hasPassword ?? true;
  const deleteFields: FieldSpec[] = withPassword
    ? [
        {
          form: 'delete',
          name: 'password',
          label: 'Your password',
          type: 'password',
          autocomplete: 'current-password',
        },
      ]
    : [];
  return layout({
    title: 'Your account',
    ...(options.passkeys && { scripts: PASSKEY_SCRIPTS }),
    hasErrors:
      hasErrors(change) ||
      hasErrors(remove) ||
      twoFactorHasErrors(options.twoFactor) ||
      addressHasErrors(options.changeEmail),
    body: html`<div class="card">
        ${noticeBox(options.notice)}
        <h1>Your account</h1>
        <p>Logged in as <span class="account-email">${options.email}</span></p>
        <form method="post" action="/logout">
          <button type="submit" class="quiet">Log out</button>
        </form>
      </div>
      ${options.address && addressSection(options.address, options.changeEmail, withPassword)}
      <section class="card" aria-labelledby="change-heading">
        <h2 id="change-heading">Change password</h2>
        <p class="lead">
          You stay logged in here; every other session ends, and we email you to confirm.
        </p>
        ${form({ action: '/account/password', fields: changeFields, state: change, submit: 'Change password' })}
      </section>
      ${options.twoFactor && twoFactorSection(options.twoFactor)}
      ${options.passkeys && passkeysSection(options.passkeys)}
      ${
        options.devices &&
        devicesSection({ sessions: options.devices.sessions, now: options.devices.at })
      }
      <section class="card danger-zone" aria-labelledby="delete-heading">
        <h2 id="delete-heading">Delete account</h2>
        <p class="lead">This removes your account for good. It cannot be undone.</p>
        ${
          withPassword
            ? ''
            : html`<p>
                Your account has no password: it can be deleted within 10 minutes of logging in with
                your passkey.
              </p>`
        }
        ${form({
          action: '/account/delete',
          fields: deleteFields,
          state: remove,
          submit: 'Delete my account',
          buttonClass: 'danger',
        })}
      </section>`,
  });
}

/** The page of a refusal that no form can show (cross-site post, too many requests, failure). */
export function errorPage(options: { status: number; message: string }): Html {
  const heading =
    options.status === 429
      ? 'Too many requests'
      : options.status >= 500
        ? 'Something went wrong'
        : 'This request was refused';
  return layout({
    title: heading,
    body: html`<div class="card">
      <h1>${heading}</h1>
      <div class="alert" role="alert"><p>${options.message}</p></div>
      <p><a href="/">Back to the start</a></p>
    </div>`,
  });
}
