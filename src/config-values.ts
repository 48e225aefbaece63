/**
 * Parsers of single settings, for config.ts: each takes the raw value and the list of problems,
 * adds its own problem there when the value is bad, and returns what it read.
 */
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';

/**
 * What is wrong with `name` as the session cookie's name, if anything: it must be an RFC 6265
 * token, and a `__Host-` or `__Secure-` name (browsers compare these prefixes without regard to
 * case) is only honoured on a Secure cookie, hence an https PUBLIC_URL. `__Host-` moreover needs
 * `Path=/` and no `Domain`, so it cannot go with COOKIE_DOMAIN.
 */
export function sessionCookieNameProblem(
  name: string,
  publicUrl: string,
  cookieDomain: string | undefined,
): string | undefined {
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) {
    return "expected a cookie name: letters, digits and !#$%&'*+-.^_`|~";
  }
  if (/^__(host|secure)-/i.test(name) && !publicUrl.startsWith('https:')) {
    return 'a __Host- or __Secure- cookie must be Secure, which needs an https PUBLIC_URL';
  }
  if (/^__host-/i.test(name) && cookieDomain !== undefined) {
    return 'a __Host- cookie has no Domain, so it cannot go with COOKIE_DOMAIN';
  }
  return undefined;
}

export function parsePublicUrl(raw: string, problems: string[]): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    problems.push(`PUBLIC_URL=${raw}: expected an absolute http(s) URL`);
    return raw;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    problems.push(`PUBLIC_URL=${raw}: expected an http or https URL`);
  } else if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    problems.push(`PUBLIC_URL=${raw}: must not carry credentials, a query or a fragment`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** A DNS name as the session cookie's Domain, cookies' own rules and URLs' hosts know it. */
const DOMAIN_NAME =
  /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/**
 * `COOKIE_DOMAIN`: a domain of at least two labels (a browser refuses a cookie for a whole
 * top-level domain), in ASCII (an IDN is taken in its punycode form), without a leading dot, and
 * PUBLIC_URL's host must be that domain or under it, or browsers would refuse the cookie.
 */
export function parseCookieDomain(
  raw: string | undefined,
  publicUrl: string,
  problems: string[],
): string | undefined {
  if (raw === undefined) return undefined;
  const domain = asciiDomain(raw.replace(/^\./, ''));
  if (!DOMAIN_NAME.test(domain) || isIP(domain) !== 0) {
    problems.push(
      `COOKIE_DOMAIN=${raw}: expected a domain name of two labels or more, like example.com`,
    );
    return undefined;
  }
  const host = hostOf(publicUrl);
  if (host !== domain && !host.endsWith(`.${domain}`)) {
    problems.push(
      `COOKIE_DOMAIN=${raw}: PUBLIC_URL's host (${host}) must be ${domain} or a name under it`,
    );
    return undefined;
  }
  return domain;
}

/**
 * `name` in lower-case ASCII (an IDN as punycode); empty when it holds an ASCII character no
 * domain name has, which the URL host parser would otherwise cut at or drop (`/`, `:`, `*`…).
 */
function asciiDomain(name: string): string {
  return /[^A-Za-z0-9.\-\u0080-\u{10FFFF}]/u.test(name) ? '' : domainToASCII(name.toLowerCase());
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
}

/**
 * A comma-separated list of email domains (`SIGNUP_EMAIL_DOMAINS`), each in ASCII lower case
 * (an IDN in its punycode form) and without a leading `@`; undefined when unset.
 */
export function parseEmailDomains(
  name: string,
  raw: string | undefined,
  problems: string[],
): readonly string[] | undefined {
  if (raw === undefined) return undefined;
  const entries = raw.split(',').map((entry) => entry.trim().replace(/^@/, ''));
  const domains = entries.map(asciiDomain);
  const bad = entries.filter((_entry, index) => !DOMAIN_NAME.test(domains[index] ?? ''));
  if (bad.length > 0) {
    const shown = bad.map((entry) => JSON.stringify(entry)).join(', ');
    problems.push(
      `${name}=${raw}: expected comma-separated domain names, like example.com; not ${shown}`,
    );
    return undefined;
  }
  return Object.freeze([...new Set(domains)]);
}

/** The names `TRUST_PROXY` may use for ranges, as the proxy-address matcher knows them. */
const TRUST_PROXY_KEYWORDS = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * `TRUST_PROXY` checked entry by entry: each is an IP address, a CIDR range with a prefix length
 * the address family allows (1 to 32, or 1 to 128), or a keyword. A bare number is refused: it
 * would be read as an address (`1` is 0.0.0.1), and a hop count cannot tell a proxy from a client
 * that connects directly.
 */
export function parseTrustProxy(raw: string | undefined, problems: string[]): string | undefined {
  if (raw === undefined) return undefined;
  const entries = raw.split(',').map((entry) => entry.trim());
  const bad = entries.filter((entry) => !isTrustedProxyEntry(entry));
  if (bad.length > 0) {
    const shown = bad.map((entry) => JSON.stringify(entry)).join(', ');
    problems.push(
      `TRUST_PROXY=${raw}: expected comma-separated IP addresses, CIDR ranges (like 10.0.0.0/8) or ${TRUST_PROXY_KEYWORDS.join(', ')}; not ${shown}`,
    );
    return undefined;
  }
  return entries.join(', ');
}

function isTrustedProxyEntry(entry: string): boolean {
  if (TRUST_PROXY_KEYWORDS.includes(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  const length = /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
  return length >= 1 && length <= (family === 4 ? 32 : 128);
}

/** `url` with the password of its user-info part replaced by `***`. */
export function maskUrlPassword(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*):[^@/]*@/i, '$1:***@');
}

/**
 * `SECRET_KEY`: 32 random bytes, written as base64 (standard or URL-safe alphabet, padding
 * optional) or as 64 hex digits. Only the canonical spelling of 32 bytes is taken, since Node's
 * decoders would silently skip stray characters; a key of one repeated byte (all zeros, say) is
 * a placeholder, not a key. The problem never repeats the value, only its length.
 */
export function parseSecretKey(raw: string | undefined, problems: string[]): Buffer | undefined {
  if (raw === undefined) return undefined;
  const key = decodeSecretKey(raw);
  if (key === undefined) {
    problems.push(
      `SECRET_KEY: expected 32 random bytes as base64 (43 or 44 characters, as \`openssl rand -base64 32\` prints) or as 64 hex digits; got ${raw.length} characters`,
    );
    return undefined;
  }
  if (key.every((byte) => byte === key[0])) {
    problems.push('SECRET_KEY: one byte repeated is not a random key (`openssl rand -base64 32`)');
    return undefined;
  }
  return key;
}

function decodeSecretKey(raw: string): Buffer | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(raw)) return Buffer.from(raw, 'hex');
  const unpadded = raw.endsWith('=') ? raw.slice(0, -1) : raw;
  const standard = /^[A-Za-z0-9+/]{43}$/.test(unpadded);
  if (!standard && !/^[A-Za-z0-9_-]{43}$/.test(unpadded)) return undefined;
  const key = Buffer.from(unpadded, standard ? 'base64' : 'base64url');
  // 43 characters carry 258 bits: the last one's two spare bits must be zero.
  const canonical = key.toString(standard ? 'base64' : 'base64url').replace(/=$/, '');
  return canonical === unpadded ? key : undefined;
}
