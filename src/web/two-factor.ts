/**
 * Two-factor authentication on the web pages: the account page's section (its state, and the
 * forms to turn it on, replace the recovery codes, turn it off), the setup page (the QR code, the
 * secret as text, and the field for the first code), and the page that shows recovery codes, the
 * one time they are ever shown. Plain forms, no script; every change asks for the password.
 */
import { form, hasErrors, layout, type FieldSpec, type FormState } from './components.js';
import { html, type Html } from './html.js';

/** What the account page shows of the factor. */
export interface TwoFactorView {
  /** False when the server has no key: the factor cannot be turned on. */
  readonly available: boolean;
  readonly enabled: boolean;
  readonly recoveryCodesLeft: number;
  /** A form shown again after a refusal, with its errors. */
  readonly enable?: FormState;
  readonly regenerate?: FormState;
  readonly disable?: FormState;
}

/**
 * The password field of one of the section's forms. Each form's label says what it is for: the
 * account page holds several password fields, and each label must name one field only.
 */
const passwordField = (formName: string, purpose: string): FieldSpec => ({
  form: formName,
  name: 'password',
  label: `Your password, ${purpose}`,
  type: 'password',
  autocomplete: 'current-password',
});

/** The field for a code of the app; `orRecovery` when a recovery code does too. */
const codeField = (formName: string, orRecovery: boolean): FieldSpec => ({
  form: formName,
  name: 'code',
  label: orRecovery ? 'Code from your app, or a recovery code' : 'Code from your app',
  type: 'text',
  autocomplete: 'one-time-code',
  ...(!orRecovery && { inputmode: 'numeric' }),
  hint: orRecovery
    ? 'The 6 digits your authenticator app shows now, or one of your recovery codes.'
    : 'The 6 digits your authenticator app shows now.',
});

/** Whether a form of the section is shown again with errors (the page's title says so). */
export const twoFactorHasErrors = (view: TwoFactorView | undefined): boolean =>
  view !== undefined &&
  [view.enable, view.regenerate, view.disable].some((state) => state && hasErrors(state));

/** The account page's section. */
export function twoFactorSection(view: TwoFactorView): Html {
  const heading = html`<h2 id="two-factor-heading">Two-factor authentication</h2>`;
  if (!view.enabled && !view.available) {
    return html`<section class="card" aria-labelledby="two-factor-heading">
      ${heading}
      <p>Two-factor authentication is not available on this server yet.</p>
    </section>`;
  }
  if (!view.enabled) {
    return html`<section class="card" aria-labelledby="two-factor-heading">
      ${heading}
      <p>Two-factor authentication is <span class="state">off</span>.</p>
      <p class="lead">
        Turn it on to be asked, after your password, for a code from an authenticator app on your
        phone. Someone who learns your password still cannot log in.
      </p>
      ${form({
        action: '/account/totp',
        fields: [passwordField('totp-on', 'to turn it on')],
        state: view.enable ?? {},
        submit: 'Turn on two-factor authentication',
      })}
    </section>`;
  }
  const left = view.recoveryCodesLeft;
  return html`<section class="card" aria-labelledby="two-factor-heading">
    ${heading}
    <p>Two-factor authentication is <span class="state">on</span>.</p>
    <p>
      ${left === 1 ? '1 recovery code left' : `${left} recovery codes left`}.
      ${left <= 3 ? 'Make new ones before they run out.' : ''}
    </p>
    <h3>New recovery codes</h3>
    <p class="lead">Replaces every recovery code: the old ones stop working.</p>
    ${form({
      action: '/account/recovery-codes',
      fields: [passwordField('codes', 'for new recovery codes')],
      state: view.regenerate ?? {},
      submit: 'Make new recovery codes',
    })}
    <h3>Turn it off</h3>
    <p class="lead">Logging in will then ask for your password alone.</p>
    ${form({
      action: '/account/totp/disable',
      fields: [passwordField('totp-off', 'to turn it off'), codeField('totp-off', true)],
      state: view.disable ?? {},
      submit: 'Turn off two-factor authentication',
      buttonClass: 'danger',
    })}
  </section>`;
}

/**
 * The setup page: scan the QR code (or type the secret), then type the app's first code. Shown
 * again after a wrong code without `setup` (the secret is shown once, when it is made).
 */
export function twoFactorSetupPage(options: {
  setup?: { readonly secret: string; readonly qrCode: Html };
  confirm?: FormState;
}): Html {
  const confirm = options.confirm ?? {};
  const { setup } = options;
  const steps = setup
    ? html`<h2>1. Add your account to the app</h2>
        <p>Scan this QR code with your authenticator app:</p>
        <div class="qr">${setup.qrCode}</div>
        <p>Or, if you cannot scan it, type this key into the app:</p>
        <p><code class="secret" id="totp-secret">${setup.secret}</code></p>
        <h2>2. Type the code the app shows</h2>`
    : html`<p>
        If you did not add your account to your authenticator app, start again from
        <a href="/account">your account</a>.
      </p>`;
  return layout({
    title: 'Turn on two-factor authentication',
    hasErrors: hasErrors(confirm),
    body: html`<div class="card">
      <h1>Turn on two-factor authentication</h1>
      <p class="lead">It is not on until the app’s code is confirmed here.</p>
      ${steps}
      ${form({
        action: '/account/totp/confirm',
        fields: [codeField('totp-confirm', false)],
        state: confirm,
        submit: 'Confirm and turn on',
        after: html`<a class="button secondary" href="/account">Cancel</a>`,
      })}
    </div>`,
  });
}

/** The recovery codes, shown this once: after turning it on, or after making new ones. */
export function recoveryCodesPage(options: { codes: readonly string[]; enabled: boolean }): Html {
  const heading = options.enabled ? 'Two-factor authentication is on' : 'Your new recovery codes';
  return layout({
    title: heading,
    body: html`<div class="card">
      <div class="notice" role="status"><p>${heading}.</p></div>
      <h1>Save your recovery codes</h1>
      <p>
        If you lose your phone, each of these codes lets you log in once instead of a code from the
        app. Keep them somewhere safe, such as a password manager.
        <strong>They are shown only now.</strong>
      </p>
      <ol class="recovery-codes">
        ${options.codes.map((code) => html`<li><code>${code}</code></li>`)}
      </ol>
      ${options.enabled ? '' : html`<p>The old codes no longer work.</p>`}
      <p><a class="button" href="/account">I have saved them</a></p>
    </div>`,
  });
}
