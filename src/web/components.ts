/**
 * What every page is made of: the layout, fields with their labels and errors, forms, the error
 * summary and the fixed notices. Accessibility lives here: every field has a label; an error is
 * written next to its field, tied to it by `aria-describedby` and `aria-invalid`, listed in a
 * summary that screen readers announce (`role="alert"`), and the first invalid field gets the
 * focus; `autocomplete` tells password managers which password is which.
 */
import { maxLengthOf } from '../http/field-limits.js';
import { attributes, html, type Html, type HtmlValue } from './html.js';

/** What a form shows again after a refusal: the values typed (never passwords) and the errors. */
export interface FormState {
  readonly values?: Readonly<Record<string, string>>;
  /** Error messages by field name; `form` for one about the whole form. */
  readonly errors?: Readonly<Record<string, string>>;
}

/** Fixed messages shown after a redirect (`?notice=…`); nothing from the URL is echoed. */
export const NOTICES = {
  created: 'Your account is ready. Log in to continue.',
  logged_out: 'You are logged out.',
  password_reset: 'Your password was changed. Log in with the new one.',
  password_changed: 'Your password was changed. Other sessions were ended.',
  deleted: 'Your account was deleted.',
  session_ended: 'That session was ended: its device is logged out.',
  session_gone: 'That session had already ended.',
  others_ended: 'You are logged out everywhere else.',
  two_factor_off: 'Two-factor authentication is off. Logging in asks for your password alone.',
  email_verified: 'Your email address is verified.',
  email_changed: 'Your email address was changed. Other sessions were ended.',
  email_change_sent:
    'We sent a link to the new address: open it to complete the change. Until then, nothing changes.',
  passkey_added: 'Your passkey was added. You can log in with it now.',
  passkey_removed: 'That passkey was removed: it no longer logs in.',
  passkey_gone: 'That passkey had already been removed.',
} as const;
export type Notice = keyof typeof NOTICES;

/** One field of a form: its name, label, input type and what password managers should fill. */
export interface FieldSpec {
  readonly form: string;
  readonly name: string;
  readonly label: string;
  readonly type: 'email' | 'password' | 'text';
  readonly autocomplete:
    'email' | 'username webauthn' | 'current-password' | 'new-password' | 'one-time-code' | 'off';
  /** The keyboard a phone shows: `numeric` for a six-digit code. */
  readonly inputmode?: 'numeric';
  readonly hint?: string;
}

/**
 * The page around `body`: title, stylesheet, skip link, header and footer. `base` is the
 * service's address for a page shown at another host's (forward auth's refusal); relative by
 * default.
 */
export function layout(options: {
  title: string;
  body: HtmlValue;
  hasErrors?: boolean;
  base?: string;
  /** Same-origin scripts the page is better with (never needs: every page works without). */
  scripts?: readonly string[];
}): Html {
  const base = options.base ?? '';
  const title = `${options.hasErrors === true ? 'Error: ' : ''}${options.title} · Bienvenue`;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title}</title>
        <link rel="stylesheet" href="${base}/style.css" />
        <link rel="icon" href="data:," />
        ${(options.scripts ?? []).map((src) => html`<script src="${base}${src}" defer></script>`)}
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="site"><a class="brand" href="${base}/">Bienvenue</a></header>
        <main id="main">${options.body}</main>
        <footer>Bienvenue · your account, your data</footer>
      </body>
    </html> `;
}

function fieldId(spec: FieldSpec): string {
  return `${spec.form}-${spec.name.replaceAll('_', '-')}`;
}

/** The box of a fixed notice, if any. */
export function noticeBox(notice: Notice | undefined): HtmlValue {
  if (notice === undefined) return undefined;
  return html`<div class="notice" role="status"><p>${NOTICES[notice]}</p></div>`;
}

/** The summary of a form's errors, announced when the page loads, each linking to its field. */
function errorSummary(fields: readonly FieldSpec[], state: FormState): HtmlValue {
  const errors = state.errors ?? {};
  const listed = fields.filter((spec) => errors[spec.name] !== undefined);
  if (listed.length === 0 && errors.form === undefined) return undefined;
  return html`<div class="alert" role="alert">
    <h2>There is a problem</h2>
    ${errors.form === undefined ? '' : html`<p>${errors.form}</p>`}
    ${
      listed.length === 0
        ? ''
        : html`<ul>
            ${listed.map(
              (spec) => html`<li><a href="#${fieldId(spec)}">${errors[spec.name]}</a></li>`,
            )}
          </ul>`
    }
  </div>`;
}

function field(spec: FieldSpec, state: FormState, autofocus: boolean): Html {
  const id = fieldId(spec);
  const error = state.errors?.[spec.name];
  const described = [spec.hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(' ');
  const value = spec.type === 'password' ? undefined : state.values?.[spec.name];
  return html`<div class="field${error === undefined ? '' : ' invalid'}">
<label for="${id}">${spec.label}</label>
${spec.hint === undefined ? '' : html`<p class="hint" id="${id}-hint">${spec.hint}</p>`}
${error === undefined ? '' : html`<p class="error" id="${id}-error"><span class="visually-hidden">Error: </span>${error}</p>`}
<input${attributes({
    id,
    name: spec.name,
    type: spec.type,
    autocomplete: spec.autocomplete,
    inputmode: spec.inputmode,
    required: true,
    maxlength: String(maxLengthOf(spec.name)),
    spellcheck: spec.type === 'password' ? undefined : 'false',
    value,
    'aria-describedby': described === '' ? undefined : described,
    'aria-invalid': error === undefined ? undefined : 'true',
    autofocus,
  })}>
</div>`;
}

/** A form of `fields`; the first field with an error gets the focus. */
export function form(options: {
  action: string;
  fields: readonly FieldSpec[];
  state: FormState;
  submit: string;
  hidden?: Readonly<Record<string, string>>;
  buttonClass?: string;
  after?: HtmlValue;
}): Html {
  const { fields, state } = options;
  const firstInvalid = fields.find((spec) => state.errors?.[spec.name] !== undefined);
  const hidden = Object.entries(options.hidden ?? {}).map(
    ([name, value]) => html`<input type="hidden" name="${name}" value="${value}" />`,
  );
  return html`${errorSummary(fields, state)}
    <form method="post" action="${options.action}" novalidate>
      ${hidden} ${fields.map((spec) => field(spec, state, spec === firstInvalid))}
      <div class="actions">
        <button type="submit" ${attributes({ class: options.buttonClass })}>
          ${options.submit}
        </button>
        ${options.after}
      </div>
    </form>`;
}

/** True when the form is shown again with errors. */
export const hasErrors = (state: FormState) => Object.keys(state.errors ?? {}).length > 0;

/**
 * `path` (one of our pages) with `rd` added to its query, so that the next page keeps where the
 * login should lead; `path` as is without one. `rd` must already have passed
 * safeRedirectTarget: pages never carry a value that did not.
 */
export function withRedirectTarget(path: string, rd: string | undefined): string {
  if (rd === undefined) return path;
  return `${path}${path.includes('?') ? '&' : '?'}rd=${encodeURIComponent(rd)}`;
}

/** The hidden field that carries `rd` through a form's post, if there is one. */
export const redirectTargetField = (rd: string | undefined): Record<string, string> =>
  rd === undefined ? {} : { rd };

/**
 * `rd`, on the pages that take it: where a login should lead afterwards. It has passed
 * safeRedirectTarget; links between these pages and their forms carry it on.
 */
export interface CarriesRedirectTarget {
  readonly rd?: string | undefined;
}
