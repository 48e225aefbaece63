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
