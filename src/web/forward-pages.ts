/**
 * The page of forward auth's refusal: the browser is logged in, but its account may not use the
 * host it asked for. It says which account, and offers to switch to another or to log out.
 */
import { layout } from './components.js';
import { html, type Html } from './html.js';

export function accessDeniedPage(options: {
  /** The account the browser is logged in with. */
  email: string;
  /** The host it may not use. */
  host: string;
  /** The service's address, for the stylesheet and links. */
  publicUrl: string;
  /** The login page, to come back to the same address as another account. */
  switchUrl: string;
}): Html {
  const { email, host, publicUrl, switchUrl } = options;
  return layout({
    title: 'Access refused',
    base: publicUrl,
    body: html`<div class="card">
      <h1>Access refused</h1>
      <div class="alert" role="alert">
        <p>You are logged in as <strong>${email}</strong>, and this account may not use ${host}.</p>
      </div>
      <p><a href="${switchUrl}">Log in with another account</a></p>
      <p><a href="${publicUrl}/account">Your account</a>, where you can log out</p>
    </div>`,
  });
}

/**
 * The page of a host whose rule asks for a second factor, shown to a browser whose session was
 * made with the password alone: it says so, and leads to the account page, where two-factor
 * authentication is turned on, and to logging in again with it.
 */
export function secondFactorRequiredPage(options: {
  /** The account the browser is logged in with. */
  email: string;
  /** The host that asks for the second factor. */
  host: string;
  /** The service's address, for the stylesheet and links. */
  publicUrl: string;
}): Html {
  const { email, host, publicUrl } = options;
  return layout({
    title: 'Two-factor authentication required',
    base: publicUrl,
    body: html`<div class="card">
      <h1>Two-factor authentication required</h1>
      <div class="alert" role="alert">
        <p>
          ${host} asks for a login with two-factor authentication. You are logged in as
          <strong>${email}</strong> with your password alone.
        </p>
      </div>
      <p>
        <a href="${publicUrl}/account">Your account</a>: turn two-factor authentication on there,
        then log out and log in again with a code.
      </p>
    </div>`,
  });
}
