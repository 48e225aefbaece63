/**
 * The relying party passkeys are made for. Its ID is COOKIE_DOMAIN when set (so that a passkey
 * works on every host the session cookie does), else PUBLIC_URL's host; the origin a browser must
 * report is PUBLIC_URL's. A passkey is bound to its RP ID for good: changing PUBLIC_URL to another
 * domain (or COOKIE_DOMAIN) leaves the passkeys made before unusable.
 */

export interface RelyingParty {
  /** The RP ID: a domain name, without port. */
  readonly id: string;
  /** What authenticators show beside the account. */
  readonly name: string;
  /** The origin responses must come from. */
  readonly origin: string;
}

/** The relying party of a service at `publicUrl`, with `cookieDomain` when it has one. */
export function relyingPartyOf(publicUrl: string, cookieDomain: string | undefined): RelyingParty {
  const url = new URL(publicUrl);
  const id = cookieDomain ?? url.hostname;
  return { id, name: url.hostname, origin: url.origin };
}
