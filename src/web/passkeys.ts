/**
 * What the pages show of passkeys: the account page's section (the account's passkeys, each with
 * a form to remove it, and a form to add one), and the login page's "Log in with a passkey". The
 * lists and removals are plain forms; adding one and logging in with one need the browser's
 * WebAuthn, so their controls stay hidden until /passkeys.js shows them, and a page without
 * JavaScript says so instead.
 */
import type { PasskeyView } from '../auth/passkeys/index.js';
import { timeAgo } from './devices.js';
import { html, type Html } from './html.js';

/** The scripts of the pages with passkeys: the library's browser bundle, then ours. */
export const PASSKEY_SCRIPTS = ['/webauthn.js?v=14.0.0', '/passkeys.js'] as const;

/** What the account page shows of the account's passkeys. */
export interface PasskeysView {
  readonly passkeys: readonly PasskeyView[];
  /** Whether the account has a password (a passkey-only account has none). */
  readonly hasPassword: boolean;
  readonly now: Date;
}

/** The account page's Passkeys section. */
export function passkeysSection(view: PasskeysView): Html {
  const { passkeys, now } = view;
  const items = passkeys.map((passkey) => {
    const used =
      passkey.lastUsedAt === null
        ? 'never used'
        : html`last used
            <time datetime="${passkey.lastUsedAt.toISOString()}"
              >${timeAgo(passkey.lastUsedAt, now)}</time
            >`;
    return html`<li class="device">
      <div>
        <strong>${passkey.name}</strong>
        <span class="device-details"
          >added
          <time datetime="${passkey.createdAt.toISOString()}"
            >${timeAgo(passkey.createdAt, now)}</time
          >
          · ${used}${passkey.backedUp ? ' · synced' : ''}</span
        >
      </div>
      <form method="post" action="/account/passkeys/remove">
        <input type="hidden" name="id" value="${passkey.id}" />
        <button type="submit" class="quiet">
          Remove<span class="visually-hidden"> passkey ${passkey.name}</span>
        </button>
      </form>
    </li>`;
  });
  return html`<section class="card" aria-labelledby="passkeys-heading">
    <h2 id="passkeys-heading">Passkeys</h2>
    <p class="lead">
      A passkey logs you in with your fingerprint, face, screen lock or security key, without your
      password. It cannot be phished.
    </p>
    ${
      passkeys.length === 0
        ? html`<p>You have no passkey yet.</p>`
        : html`<ul class="devices" aria-label="Your passkeys">
            ${items}
          </ul>`
    }
    <p data-passkey-nojs>Adding a passkey needs JavaScript, which is off in this browser.</p>
    <form data-passkey-add hidden novalidate>
      <div class="field">
        <label for="passkey-name">Passkey name</label>
        <p class="hint" id="passkey-name-hint">So you can tell it apart, like “Work laptop”.</p>
        <input
          id="passkey-name"
          name="name"
          type="text"
          maxlength="64"
          autocomplete="off"
          required
          aria-describedby="passkey-name-hint"
        />
      </div>
      ${
        view.hasPassword
          ? html`<div class="field">
              <label for="passkey-password">Your password (for passkeys)</label>
              <p class="hint" id="passkey-password-hint">
                Needed only if you logged in more than 10 minutes ago.
              </p>
              <input
                id="passkey-password"
                name="password"
                type="password"
                autocomplete="current-password"
                maxlength="1024"
                aria-describedby="passkey-password-hint"
              />
            </div>`
          : ''
      }
      <p class="error" data-passkey-error role="alert" hidden></p>
      <div class="actions"><button type="submit">Add a passkey</button></div>
    </form>
  </section>`;
}

/** The login page's passkey button (shown by /passkeys.js), leading to `next` once logged in. */
export function passkeyLogin(options: { next: string; codePage: string }): Html {
  return html`<div
    class="passkey-login"
    data-passkey-login
    data-next="${options.next}"
    data-code-page="${options.codePage}"
    hidden
  >
    <p class="error" data-passkey-error role="alert" hidden></p>
    <button type="button" class="quiet">Log in with a passkey</button>
  </div>`;
}
