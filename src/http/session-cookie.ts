/**
 * The session cookie (`session_id` unless SESSION_COOKIE_NAME says otherwise): HttpOnly (no script
 * can read it), SameSite=Lax (not sent on cross-site sub-requests), Path=/, and Secure whenever
 * the service is reached over https, so a `__Host-` name is honoured by browsers. It is host-only
 * unless COOKIE_DOMAIN is set: then it carries `Domain=`, so that every host under that domain
 * receives it (the apps behind forward auth), and setting it for a request that carries the cookie,
 * or clearing it, also clears a host-only cookie of the same name left from before, which would
 * otherwise be sent beside it (and a cookie sent twice is no session).
 *
 * Reading it is the one way any route learns a request's session. A request that carries the
 * cookie more than once has no session at all: a sibling subdomain can set a second cookie of the
 * same name (cookie tossing), and browsers send both, so choosing either one could log a victim
 * into an attacker's account. That is logged as a warning. A quoted value (RFC 6265 allows
 * `name="value"`) is read as what is between the quotes.
 */
import type { CookieSerializeOptions } from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';

export interface SessionCookieSettings {
  /** The cookie's name; config.ts checks it (a token, `__Host-` only over https). */
  readonly name: string;
  readonly publicUrl: string;
  /** The cookie's Domain; host-only when undefined. */
  readonly domain?: string | undefined;
  /** How long a browser keeps the cookie. */
  readonly maxAgeSeconds: number;
}

/** Reads, sets and clears the session cookie of a service. */
export class SessionCookie {
  readonly name: string;
  readonly #options: CookieSerializeOptions;
  /** With a Domain, the host-only cookie of the same name, to be cleared. */
  readonly #hostOnly: CookieSerializeOptions | undefined;
  readonly #maxAgeSeconds: number;

  constructor(settings: SessionCookieSettings) {
    this.name = settings.name;
    this.#maxAgeSeconds = settings.maxAgeSeconds;
    const hostOnly: CookieSerializeOptions = {
      httpOnly: true,
      sameSite: 'lax',
      path: '/',
      secure: settings.publicUrl.startsWith('https:'),
    };
    const { domain } = settings;
    this.#options = domain === undefined ? hostOnly : { ...hostOnly, domain };
    this.#hostOnly = domain === undefined ? undefined : hostOnly;
  }

  /**
   * The session id `request` carries; undefined without the cookie, with an empty one, or with
   * the cookie given more than once (then a warning is logged).
   */
  read(request: FastifyRequest): string | undefined {
    const values = cookieValues(request.headers.cookie ?? '', this.name);
    if (values.length > 1) {
      request.log.warn(
        { cookie: this.name, count: values.length },
        'the session cookie was sent more than once: the request is treated as having no session',
      );
      return undefined;
    }
    const [value] = values;
    return value === '' ? undefined : value;
  }

  set(reply: FastifyReply, sessionId: string): void {
    void reply.setCookie(this.name, sessionId, { ...this.#options, maxAge: this.#maxAgeSeconds });
    // Only a request that carries the cookie can hold a host-only one from before.
    const carried = reply.request.headers.cookie?.includes(`${this.name}=`) ?? false;
    if (this.#hostOnly !== undefined && carried) void reply.clearCookie(this.name, this.#hostOnly);
  }

  clear(reply: FastifyReply): void {
    if (this.#hostOnly !== undefined) void reply.clearCookie(this.name, this.#hostOnly);
    void reply.clearCookie(this.name, this.#options);
  }
}

/**
 * Every value of the cookie `name` in a Cookie header, in order, unquoted and percent-decoded
 * (as @fastify/cookie decodes, a value that does not decode is kept as it is). Node joins
 * repeated Cookie header lines with `; `, so those count too.
 */
export function cookieValues(header: string, name: string): string[] {
  const values: string[] = [];
  for (const pair of header.split(';')) {
    const separator = pair.indexOf('=');
    if (separator === -1 || pair.slice(0, separator).trim() !== name) continue;
    let value = pair.slice(separator + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
      value = value.slice(1, -1);
    }
    values.push(decode(value));
  }
  return values;
}

function decode(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
