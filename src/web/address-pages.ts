/**
 * The pages of proven addresses: "check your inbox" after a sign-up (or a new link asked for),
 * the pages the emailed links open (each a button that posts the token: opening the link alone
 * changes nothing), the login's refusal of an unverified account, and the account page's section
 * (the address's state, a button to send the link again, the "Change email" form).
 */
import {
  form,
  hasErrors,
  layout,
  redirectTargetField,
  withRedirectTarget,
  type CarriesRedirectTarget,
  type FieldSpec,
  type FormState,
} from './components.js';
import { duration } from '../mail/messages.js';
import { html, type Html } from './html.js';

/** A one-button form that asks for a new verification link for `email`. */
function resendForm(email: string, label = 'Send the link again'): Html {
  return html`<form method="post" action="/verify/resend">
    <input type="hidden" name="email" value="${email}" />
    <button type="submit" class="secondary button">${label}</button>
  </form>`;
}

/** After a sign-up, or a new link asked for: the link is on its way to `email`. */
export function checkInboxPage(options: { email: string; validSeconds: number }): Html {
  return layout({
    title: 'Check your inbox',
    body: html`<div class="card">
      <div class="notice" role="status">
        <p>
          If <strong>${options.email}</strong> has an account that is not verified yet, a link to
          confirm it is on its way.
        </p>
      </div>
      <h1>Check your inbox</h1>
      <p>
        Open the link in the email within ${duration(options.validSeconds)} and press “Confirm my
        address”. It works once.
      </p>
      <p>Nothing arrived? Check your spam folder, or ask again in a minute.</p>
      ${resendForm(options.email)}
      <p class="more"><a href="/login">Go to log in</a></p>
    </div>`,
  });
}

/** Where the verification link opens: nothing is done until its button is pressed. */
export function verifyEmailPage(state: FormState & { token: string }): Html {
  const failed = state.errors?.form;
  const body =
    state.token === '' || failed !== undefined
      ? html`<div class="card">
          <h1>Confirm your email address</h1>
          <div class="alert" role="alert">
            <p>
              ${
                failed ??
                'This link is incomplete. Open the link from the email again, or ask for a new one.'
              }
            </p>
          </div>
          ${resendSection()}
        </div>`
      : html`<div class="card">
          <h1>Confirm your email address</h1>
          <p class="lead">Press the button to confirm that this address is yours.</p>
          <form method="post" action="/verify">
            <input type="hidden" name="token" value="${state.token}" />
            <div class="actions"><button type="submit">Confirm my address</button></div>
          </form>
        </div>`;
  return layout({ title: 'Confirm your email address', hasErrors: hasErrors(state), body });
}

/** A form to ask for a new link, the address typed in. */
function resendSection(state: FormState = {}): Html {
  const fields: FieldSpec[] = [
    { form: 'resend', name: 'email', label: 'Email address', type: 'email', autocomplete: 'email' },
  ];
  return html`<h2>Ask for a new link</h2>
    ${form({ action: '/verify/resend', fields, state, submit: 'Send a new link' })}`;
}

/** Where the link sent to a new address opens: nothing changes until its button is pressed. */
export function confirmEmailChangePage(state: FormState & { token: string }): Html {
  const failed = state.errors?.form;
  const body =
    state.token === '' || failed !== undefined
      ? html`<div class="card">
          <h1>Confirm your new email address</h1>
          <div class="alert" role="alert">
            <p>
              ${
                failed ??
                'This link is incomplete. Open the link from the email again, or ask for the change again on your account page.'
              }
            </p>
          </div>
          <p><a class="button" href="/account">Go to your account</a></p>
        </div>`
      : html`<div class="card">
          <h1>Confirm your new email address</h1>
          <p class="lead">
            Press the button to make this address your account’s. You will log in with it from now
            on, and every other session of the account ends.
          </p>
          <form method="post" action="/confirm_email">
            <input type="hidden" name="token" value="${state.token}" />
            <div class="actions"><button type="submit">Confirm</button></div>
          </form>
        </div>`;
  return layout({ title: 'Confirm your new email address', hasErrors: hasErrors(state), body });
}

/** The login's answer for an unverified account while EMAIL_VERIFICATION=required. */
export function emailNotVerifiedPage(options: { email: string } & CarriesRedirectTarget): Html {
  return layout({
    title: 'Confirm your email address to log in',
    hasErrors: true,
    body: html`<div class="card">
      <h1>Log in</h1>
      <div class="alert" role="alert">
        <h2>Your email address is not verified yet</h2>
        <p>
          Open the link we sent to <strong>${options.email}</strong> to confirm it, then log in. The
          link expired or never came? Ask for a new one.
        </p>
      </div>
      ${resendForm(options.email, 'Send me a new link')}
      <p class="more"><a href="${withRedirectTarget('/login', options.rd)}">Back to log in</a></p>
    </div>`,
  });
}

/** What the account page shows of the account's address. */
export interface AddressView {
  readonly email: string;
  readonly verified: boolean;
  /** Whether links are sent at all (EMAIL_VERIFICATION is not off). */
  readonly sendsLinks: boolean;
}

/** Whether the account page's "Change email" form is shown again with errors. */
export const addressHasErrors = (state: FormState | undefined) =>
  state !== undefined && hasErrors(state);

/**
 * The account page's section: the address, its state, the resend button, the change form, which
 * asks for the password unless the account has none (`withPassword`).
 */
export function addressSection(
  view: AddressView,
  changeEmail: FormState = {},
  withPassword = true,
): Html {
  const fields: FieldSpec[] = [
    {
      form: 'change-email',
      name: 'new_email',
      label: 'New email address',
      type: 'email',
      autocomplete: 'email',
    },
  ];
  if (withPassword) {
    fields.push({
      form: 'change-email',
      name: 'password',
      // Each password label of the account page names one field only.
      label: 'Your password, to change the address',
      type: 'password',
      autocomplete: 'current-password',
    });
  }
  return html`<section class="card" aria-labelledby="email-heading">
    <h2 id="email-heading">Email address</h2>
    <p>
      <span class="account-email">${view.email}</span>:
      <strong class="email-state">${view.verified ? 'verified' : 'not verified'}</strong>
    </p>
    ${!view.verified && view.sendsLinks ? resendForm(view.email) : ''}
    <h3>Change email</h3>
    <p class="lead">
      We send a link to the new address; the change happens once it is opened and confirmed. Your
      current address gets a notice.
    </p>
    ${form({
      action: '/account/email',
      fields,
      state: changeEmail,
      submit: 'Change email',
      hidden: redirectTargetField(undefined),
    })}
  </section>`;
}
