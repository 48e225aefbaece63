/**
 * The code page of a login with two-factor authentication on: six digits from the authenticator
 * app (a phone shows its number pad, and offers a code it received), or, by a link, a recovery
 * code instead. It carries `rd` on, like the login page.
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

export function secondFactorPage(
  state: FormState,
  options: { recovery: boolean } & CarriesRedirectTarget,
): Html {
  const { recovery, rd } = options;
  const field: FieldSpec = recovery
    ? {
        form: 'second-factor',
        name: 'code',
        label: 'Recovery code',
        type: 'text',
        autocomplete: 'off',
        hint: 'One of the codes you saved when you turned two-factor authentication on, like abcde-fghij. Each works once.',
      }
    : {
        form: 'second-factor',
        name: 'code',
        label: 'Code from your authenticator app',
        type: 'text',
        autocomplete: 'one-time-code',
        inputmode: 'numeric',
        hint: 'The six digits your app shows for this account.',
      };
  const other = recovery
    ? html`<a href="${withRedirectTarget('/login/code', rd)}">Use your authenticator app</a>`
    : html`<a href="${withRedirectTarget('/login/code?recovery=1', rd)}"
        >Use a recovery code instead</a
      >`;
  return layout({
    title: 'Two-factor authentication',
    hasErrors: hasErrors(state),
    body: html`<div class="card">
      <h1>Two-factor authentication</h1>
      <p class="lead">Your password was right. One more step to log in.</p>
      ${form({
        action: '/login/code',
        fields: [field],
        state,
        submit: 'Log in',
        hidden: { ...redirectTargetField(rd), ...(recovery && { recovery: '1' }) },
        after: other,
      })}
      <p class="more"><a href="${withRedirectTarget('/login', rd)}">Start again</a></p>
    </div>`,
  });
}
