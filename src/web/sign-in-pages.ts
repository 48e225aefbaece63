/**
 * The sign-in pages: welcome, sign-up (or the notice that it is closed) and login. Each carries
 * `rd` on to the others.
 */
import {
  form,
  hasErrors,
  layout,
  noticeBox,
  redirectTargetField,
  withRedirectTarget,
  type CarriesRedirectTarget,
  type FieldSpec,
  type FormState,
  type Notice,
} from './components.js';
import { html, type Html } from './html.js';
import { PASSKEY_SCRIPTS, passkeyLogin } from './passkeys.js';

/** What the sign-in pages show of the sign-up policy: with sign-up closed, no sign-up link. */
export interface SignUpOffer {
  readonly signUpOpen: boolean;
}

export function welcomePage(offer: SignUpOffer, notice?: Notice): Html {
  return layout({
    title: 'Welcome',
    body: html`<div class="card">
      ${noticeBox(notice)}
      <h1>Bienvenue</h1>
      <p class="lead">
        ${
          offer.signUpOpen
            ? 'One account, kept safe. Log in to manage it, or create one in a minute.'
            : 'One account, kept safe. Log in to manage it; accounts are created by invitation.'
        }
      </p>
      <div class="actions">
        <a class="button" href="/login">Log in</a>
        ${
          offer.signUpOpen
            ? html`<a class="button secondary" href="/signup">Create an account</a>`
            : ''
        }
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

/** Where GET /signup leads while sign-up is closed (and what a refused sign-up form gets). */
export function signUpClosedPage(options: CarriesRedirectTarget = {}): Html {
  return layout({
    title: 'Sign-up is closed',
    body: html`<div class="card">
      <h1>Sign-up is closed</h1>
      <div class="alert" role="alert">
        <p>
          New accounts are created by invitation only. If you were invited, open the link in the
          invitation email to choose your password.
        </p>
      </div>
      <p class="more">
        Already have an account? <a href="${withRedirectTarget('/login', options.rd)}">Log in</a>
      </p>
    </div>`,
  });
}

export function logInPage(
  state: FormState,
  options: { offer: SignUpOffer; notice?: Notice | undefined } & CarriesRedirectTarget,
): Html {
  const { offer, notice, rd } = options;
  const fields: FieldSpec[] = [
    {
      form: 'login',
      name: 'email',
      label: 'Email address',
      type: 'email',
      // `webauthn`: the browser offers the passkeys it holds for this service in the autofill.
      autocomplete: 'username webauthn',
    },
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
    scripts: PASSKEY_SCRIPTS,
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
      ${passkeyLogin({ next: rd ?? '/account', codePage: withRedirectTarget('/login/code', rd) })}
      ${
        offer.signUpOpen
          ? html`<p class="more">
              No account yet? <a href="${withRedirectTarget('/signup', rd)}">Create one</a>
            </p>`
          : ''
      }
    </div>`,
  });
}
