/**
 * Where a browser may be sent after logging in: the `rd` parameter that forward auth puts on the
 * login page's URL. A redirect to any other site would make the login page an open redirect (a
 * phishing page reached through our own trusted link), so `rd` is accepted only when it points at
 * a host that our session cookie serves anyway.
 *
 * The contract of {@link safeRedirectTarget}: the value is a string of at most
 * {@link MAX_REDIRECT_TARGET_LENGTH} characters, written entirely in printable ASCII without a
 * backslash; an absolute `https` URL (or `http` when PUBLIC_URL is http); without userinfo; and
 * its host is one of:
 * - PUBLIC_URL's host, on PUBLIC_URL's port only (another port is another service);
 * - COOKIE_DOMAIN or a name under it, on any port (cookies ignore ports, so every port of such a
 *   host receives the session cookie already).
 *
 * Why the raw string is checked before parsing: the WHATWG URL parser silently drops tabs and
 * newlines, reads `\` as `/` in http(s) URLs, maps full-width dots and other Unicode to ASCII in
 * hosts, decodes percent-escapes in hosts and reads `https:host` or `https:///host` as
 * `https://host`. Each is a way for what a reviewer sees to differ from what a browser follows,
 * so the authority as written must be exactly the host that was checked (letter case and an
 * explicit default port aside). Non-ASCII paths are thereby refused too: browsers send paths
 * percent-encoded, so forward auth's URLs never hold them. A host with a trailing dot
 * (`example.com.`) names the same site in DNS but not for cookies; it is refused.
 *
 * The answer is the parsed URL's `href` (normalized, ASCII), never the raw string.
 */

/** Longer values are refused; a browser's own URLs to our hosts stay well under it. */
export const MAX_REDIRECT_TARGET_LENGTH = 2048;

/** The settings the allowed hosts come from. */
export interface RedirectTargetSettings {
  /** PUBLIC_URL, as config.ts gives it. */
  readonly publicUrl: string;
  /** COOKIE_DOMAIN (ASCII, lower case), or undefined for a host-only cookie. */
  readonly cookieDomain: string | undefined;
}

/** Printable ASCII, space and backslash excluded. */
const PRINTABLE_ASCII = /^[!-[\]-~]+$/;
/** The scheme and authority as written, up to the first `/`, `?` or `#`. */
const SCHEME_AND_AUTHORITY = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)/i;
const DEFAULT_PORTS: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443' };

/**
 * `rd` as a URL to redirect to after a login, normalized, when it is safe (see the module's
 * contract); undefined otherwise, including for anything that is not a string (a repeated query
 * parameter arrives as an array).
 */
export function safeRedirectTarget(
  rd: unknown,
  settings: RedirectTargetSettings,
): string | undefined {
  if (typeof rd !== 'string' || rd.length > MAX_REDIRECT_TARGET_LENGTH) return undefined;
  if (!PRINTABLE_ASCII.test(rd)) return undefined;
  const written = SCHEME_AND_AUTHORITY.exec(rd);
  let url: URL;
  try {
    // No base: a relative value (`/x`, `//host`) is not a URL here.
    url = new URL(rd);
  } catch {
    return undefined;
  }
  const own = new URL(settings.publicUrl);
  const schemes = own.protocol === 'http:' ? ['https:', 'http:'] : ['https:'];
  if (!schemes.includes(url.protocol)) return undefined;
  if (url.username !== '' || url.password !== '') return undefined;
  const authority = written?.[2]?.toLowerCase();
  const defaultPort = DEFAULT_PORTS[url.protocol] ?? '';
  const asParsed = [url.host, ...(url.port === '' ? [`${url.hostname}:${defaultPort}`] : [])];
  if (authority === undefined || !asParsed.includes(authority)) return undefined;
  return hostAllowed(url, own, settings.cookieDomain) ? url.href : undefined;
}

function hostAllowed(url: URL, own: URL, cookieDomain: string | undefined): boolean {
  const host = url.hostname;
  if (cookieDomain !== undefined && (host === cookieDomain || host.endsWith(`.${cookieDomain}`))) {
    return true;
  }
  return host === own.hostname && portOf(url) === portOf(own);
}

/** The port a URL connects to, the scheme's default when none is written. */
function portOf(url: URL): string {
  return url.port === '' ? (DEFAULT_PORTS[url.protocol] ?? '') : url.port;
}
