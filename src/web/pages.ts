/**
 * The web pages, as functions from what they show to HTML (built from components.ts). They work
 * without JavaScript: plain forms posting to the service's own page routes.
 */
import type { SessionView } from '../auth/sessions.js';
import {
  form,
  hasErrors,
  layout,
  noticeBox,
  redirectTargetField,
  withRedirectTarget,
  type FieldSpec,
  type FormState,
  type Notice,
} from './components.js';
import { devicesSection } from './devices.js';
import { html, type Html } from './html.js';

export { NOTICES, type FormState, type Notice } from './components.js';

/**
 * `rd`, on the pages that take it: where a login should lead afterwards. It has passed
 * safeRedirectTarget; links between these pages and their forms carry it on.
 */
interface CarriesRedirectTarget {
  readonly rd?: string | undefined;
}

export function welcomePage(notice?: Notice): Html {
  return layout({
    title: 'Welcome',
    body: html`<div class="card">
      ${noticeBox(notice)}
      <h1>Bienvenue</h1>
      <p class="lead">One account, kept safe. Log in to manage it, or create one in a minute.</p>
      <div class="actions">
        <a class="button" href="/login">Log in</a>
        <a class="button secondary" href="/signup">Create an account</a>
      </div>
      <p class="more"><a href="/forgot">Forgot your password?</a></p>
    </div>`,
  });
}

export function signUpPage(
  state: FormState,
  options: { passwordMinLength: number } & CarriesRedirectTarget,
): Html {
  const fields: FieldSpec[] = [
    { form: 'signup', name: 'email', label: 'Email address', type: 'email', autocomplete: 'email' },
    {
      form: 'signup',
      name: 'password',
      label: 'Password',
      type: 'password',
      autocomplete: 'new-password',
      hint: `At least ${options.passwordMinLength} characters. A few unrelated words make a strong password.`,
    },
  ];
  return layout({
    title: 'Create an account',
    hasErrors: hasErrors(state),
    body: html`<div class="card">
      <h1>Create an account</h1>
      <p class="lead">All it takes is an email address and a password.</p>
      ${form({
        action: '/signup',
        fields,
        state,
        submit: 'Create account',
        hidden: redirectTargetField(options.rd),
      })}
      <p class="more">
        Already have an account? <a href="${withRedirectTarget('/login', options.rd)}">Log in</a>
      </p>
    </div>`,
  });
}

export function logInPage(
  state: FormState,
  options: { notice?: Notice | undefined } & CarriesRedirectTarget = {},
): Html {
  const { notice, rd } = options;
  const fields: FieldSpec[] = [
    { form: 'login', name: 'email', label: 'Email address', type: 'email', autocomplete: 'email' },
    {
      form: 'login',
      name: 'password',
      label: 'Password',
      type: 'password',
      autocomplete: 'current-password',
    },
  ];
  return layout({
    title: 'Log in',
    hasErrors: hasErrors(state),
    body: html`<div class="card">
      ${noticeBox(notice)}
      <h1>Log in</h1>
      ${form({
        action: '/login',
        fields,
        state,
        submit: 'Log in',
        hidden: redirectTargetField(rd),
        after: html`<a href="${withRedirectTarget('/forgot', rd)}">Forgot your password?</a>`,
      })}
      <p class="more">
        No account yet? <a href="${withRedirectTarget('/signup', rd)}">Create one</a>
      </p>
    </div>`,
  });
}

export function accountPage(options: {
  email: string;
  passwordMinLength: number;
  change?: FormState;
  remove?: FormState;
  notice?: Notice;
  /** The account's live sessions, for "Your devices". */
  devices?: { readonly sessions: readonly SessionView[]; readonly at: Date };
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
  const deleteFields: FieldSpec[] = [
    {
      form: 'delete',
      name: 'password',
      label: 'Your password',
      type: 'password',
      autocomplete: 'current-password',
    },
  ];
  return layout({
    title: 'Your account',
    hasErrors: hasErrors(change) || hasErrors(remove),
    body: html`<div class="card">
        ${noticeBox(options.notice)}
        <h1>Your account</h1>
        <p>Logged in as <span class="account-email">${options.email}</span></p>
        <form method="post" action="/logout">
          <button type="submit" class="quiet">Log out</button>
        </form>
      </div>
      <section class="card" aria-labelledby="change-heading">
        <h2 id="change-heading">Change password</h2>
        <p class="lead">
          You stay logged in here; every other session ends, and we email you to confirm.
        </p>
        ${form({ action: '/account/password', fields: changeFields, state: change, submit: 'Change password' })}
      </section>
      ${
        options.devices &&
        devicesSection({ sessions: options.devices.sessions, now: options.devices.at })
      }
      <section class="card danger-zone" aria-labelledby="delete-heading">
        <h2 id="delete-heading">Delete account</h2>
        <p class="lead">This removes your account for good. It cannot be undone.</p>
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

export function forgotPasswordPage(state: FormState, options: CarriesRedirectTarget = {}): Html {
  const fields: FieldSpec[] = [
    { form: 'forgot', name: 'email', label: 'Email address', type: 'email', autocomplete: 'email' },
  ];
  return layout({
    title: 'Forgot your password?',
    hasErrors: hasErrors(state),
    body: html`<div class="card">
      <h1>Forgot your password?</h1>
      <p class="lead">
        Enter the email address of your account and we will send you a link to choose a new
        password.
      </p>
      ${form({
        action: '/forgot',
        fields,
        state,
        submit: 'Send the link',
        hidden: redirectTargetField(options.rd),
      })}
      <p class="more"><a href="${withRedirectTarget('/login', options.rd)}">Back to log in</a></p>
    </div>`,
  });
}

export function resetLinkSentPage(
  options: { email: string; validMinutes: number } & CarriesRedirectTarget,
): Html {
  return layout({
    title: 'Check your email',
    body: html`<div class="card">
      <div class="notice" role="status">
        <p>If <strong>${options.email}</strong> has an account, a link is on its way.</p>
      </div>
      <h1>Check your email</h1>
      <p>
        Open the link in the email within ${options.validMinutes} minutes to choose a new password.
        It works once.
      </p>
      <p>
        Nothing arrived? Check your spam folder, or
        <a href="${withRedirectTarget('/forgot', options.rd)}">ask again</a> in a minute.
      </p>
    </div>`,
  });
}

export function resetPasswordPage(
  state: FormState & { token: string },
  options: { passwordMinLength: number } & CarriesRedirectTarget,
): Html {
  const forgot = withRedirectTarget('/forgot', options.rd);
  const fields: FieldSpec[] = [
    { form: 'reset', name: 'email', label: 'Email address', type: 'email', autocomplete: 'email' },
    {
      form: 'reset',
      name: 'new_password',
      label: 'New password',
      type: 'password',
      autocomplete: 'new-password',
      hint: `At least ${options.passwordMinLength} characters.`,
    },
  ];
  const body =
    state.token === ''
      ? html`<div class="card">
          <h1>Choose a new password</h1>
          <div class="alert" role="alert">
            <p>
              This link is incomplete. Open the link from the email again, or ask for a new one.
            </p>
          </div>
          <p><a class="button" href="${forgot}">Ask for a new link</a></p>
        </div>`
      : html`<div class="card">
          <h1>Choose a new password</h1>
          <p class="lead">
            Confirm the email address of your account, then choose a new password. This ends any
            open session.
          </p>
          ${form({
            action: '/reset',
            fields,
            state,
            submit: 'Set new password',
            hidden: { token: state.token, ...redirectTargetField(options.rd) },
          })}
          <p class="more">Link expired? <a href="${forgot}">Ask for a new one</a></p>
        </div>`;
  return layout({ title: 'Choose a new password', hasErrors: hasErrors(state), body });
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
