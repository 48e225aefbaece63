/**
 * The password reset pages: asking for a link, the link sent, and choosing the new password.
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
import { html, type Html } from './html.js';

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
