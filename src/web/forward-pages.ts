/**
 * The pages of forward auth's refusals, shown (at the service's address) to a browser that is
 * logged in but may not use the host it asked for: the account may not use it, its address is not
 * verified, or the host asks for a second factor. Each says which account, and where to go next.
 */
import { layout } from './components.js';
import { html, type Html, type HtmlValue } from './html.js';

/** What every refusal page gets: the account the browser is logged in with, and the host. */
interface RefusalOptions {
  /** The account the browser is logged in with. */
  email: string;
  /** The host it asked for. */
  host: string;
  /** The service's address, for the stylesheet and links. */
  publicUrl: string;
}

/**
 * A refusal: a card headed by `title`, `alert` (a paragraph) announced to screen readers, then
 * `next` (where to go from here).
 */
function refusalPage(options: {
  title: string;
  alert: HtmlValue;
  next: HtmlValue;
  /** The service's address, for the stylesheet and links. */
  base: string;
}): Html {
  const { title, alert, next, base } = options;
  return layout({
    title,
    base,
    body: html`<div class="card">
      <h1>${title}</h1>
      <div class="alert" role="alert">${alert}</div>
      ${next}
    </div>`,
  });
}

/** The account may not use the host: offers to switch to another account or to log out. */
export function accessDeniedPage(
  options: RefusalOptions & {
    /** The login page, to come back to the same address as another account. */
    switchUrl: string;
  },
): Html {
  const { email, host, publicUrl, switchUrl } = options;
  return refusalPage({
    title: 'Access refused',
    base: publicUrl,
    alert: html`<p>
      You are logged in as <strong>${email}</strong>, and this account may not use ${host}.
    </p>`,
    next: html`<p><a href="${switchUrl}">Log in with another account</a></p>
      <p><a href="${publicUrl}/account">Your account</a>, where you can log out</p>`,
  });
}

/**
 * The host's rule asks for a second factor, and the browser's session was made with the password
 * alone: leads to the account page, where two-factor authentication is turned on, and to logging
 * in again with it.
 */
export function secondFactorRequiredPage(options: RefusalOptions): Html {
  const { email, host, publicUrl } = options;
  return refusalPage({
    title: 'Two-factor authentication required',
    base: publicUrl,
    alert: html`<p>
      ${host} asks for a login with two-factor authentication. You are logged in as
      <strong>${email}</strong> with your password alone.
    </p>`,
    next: html`<p>
      <a href="${publicUrl}/account">Your account</a>: turn two-factor authentication on there, then
      log out and log in again with a code.
    </p>`,
  });
}

/**
 * The host's rule asks for a verified address, and the account's is not verified: leads to the
 * account page, which sends the link again.
 */
export function emailVerificationRequiredPage(options: RefusalOptions): Html {
  const { email, host, publicUrl } = options;
  return refusalPage({
    title: 'Email verification required',
    base: publicUrl,
    alert: html`<p>
      ${host} asks for a verified email address, and the address of <strong>${email}</strong> is not
      verified yet.
    </p>`,
    next: html`<p>
      Open the link we sent to it, or ask for a new one on
      <a href="${publicUrl}/account">your account page</a>.
    </p>`,
  });
}
