/**
 * What a reverse proxy says of the request it asks about (forward auth): the method and the
 * absolute URL, read from one family of headers (`X-Forwarded-*`, or nginx's `X-Original-*`). Each
 * reader refuses, with a string saying why, anything another parser could read as another host
 * than the one the proxy routed by: a header given twice, an unroutable host, white space,
 * backslashes, user info, or a URL longer than proxies allow.
 */
import type { FastifyRequest } from 'fastify';

/** The request a proxy asks about. */
export interface OriginalRequest {
  readonly method: string;
  /** The URL's host as the URL parser reads it: lower case, without the scheme's default port. */
  readonly host: string;
  /** The absolute URL, parsed when first read (only an answer that redirects needs it). */
  readonly url: URL;
}

/** Longest original URL read; longer ones are refused (proxies' own limits are near 8 KiB). */
const MAX_URL_LENGTH = 8192;

/** The original request from `X-Forwarded-*`; a string saying what is wrong when it cannot. */
export function forwardedRequest(request: FastifyRequest): OriginalRequest | string {
  const proto = single(request, 'x-forwarded-proto')?.toLowerCase();
  const host = single(request, 'x-forwarded-host');
  const uri = single(request, 'x-forwarded-uri');
  if (proto === undefined || host === undefined || uri === undefined) {
    return 'The proxy must send X-Forwarded-Proto, X-Forwarded-Host and X-Forwarded-Uri, once each';
  }
  if (proto !== 'http' && proto !== 'https') return 'X-Forwarded-Proto must be http or https';
  if (!uri.startsWith('/')) return 'X-Forwarded-Uri must be a path, starting with /';
  const origin = `${proto}://${host}`;
  return withMethod(parseOriginal(origin, `${origin}${uri}`, host), request, 'x-forwarded-method');
}

/** The original request from `X-Original-URL` (or `X-Original-URI`) and `X-Original-Method`. */
export function originalRequest(request: FastifyRequest): OriginalRequest | string {
  // A proxy sets one of the two and passes a client's other one on: if both are present and
  // differ, one is the client's, and reading either could let it choose the host judged.
  const named = request.headers['x-original-url'];
  const alias = request.headers['x-original-uri'];
  if (named !== undefined && alias !== undefined && named !== alias) {
    return 'X-Original-URL and X-Original-URI name different URLs: the proxy must send one, and drop the other';
  }
  const url = single(request, 'x-original-url') ?? single(request, 'x-original-uri');
  if (url === undefined) {
    return 'The proxy must send X-Original-URL (or X-Original-URI), once, as an absolute URL';
  }
  if (!/^https?:\/\//i.test(url)) {
    return 'X-Original-URL must be an absolute http(s) URL, like $scheme://$host:$server_port$request_uri';
  }
  const hostStart = url.indexOf('//') + 2;
  const host = url.slice(hostStart).split(/[/?#]/, 1)[0] ?? '';
  const origin = url.slice(0, hostStart + host.length);
  return withMethod(parseOriginal(origin, url, host), request, 'x-original-method');
}

/**
 * A host as a proxy routes by it: an ASCII name or an IPv6 literal, and an optional port. The URL
 * parser would read more (percent-escapes, Unicode, full-width dots) as some other host, so a
 * request a proxy served as one host could be judged by another host's rules. A name has no empty
 * label (one trailing dot aside, which the rules drop): `admin.example.com..` is no host in DNS,
 * and the rules would judge it as a host that no rule names.
 */
const ROUTABLE_HOST =
  /^(?:\[[0-9A-Fa-f:.]+\]|(?=[A-Za-z0-9.-]{1,253}(?::|$))[A-Za-z0-9][A-Za-z0-9-]*(?:\.[A-Za-z0-9-]+)*\.?)(?::\d{1,5})?$/;

/**
 * The original request's URL `text`, whose scheme and host part are `origin` and whose host part
 * is `host`: refused with anything the parser could read differently from the proxy (a host that
 * is not plainly routable, white space or backslashes anywhere, user info), and unless the parsed
 * host is the one written. What follows the host part (a path, a query, a fragment) cannot change
 * the host the parser reads, nor make it fail, so the host is judged once per origin
 * ({@link judgedHost}) and the whole URL parsed only when read.
 */
function parseOriginal(origin: string, text: string, host: string): LazyUrl | string {
  if (text.length > MAX_URL_LENGTH) return 'The original URL is too long';
  // The URL parser drops tabs and newlines and reads `\` as `/`: refuse them rather than guess.
  if (/[\s\\]/.test(text)) return 'The original URL or host is malformed';
  const judged = judgedHost(origin, host);
  return 'refusal' in judged ? judged.refusal : new LazyUrl(judged.host, text);
}

type Verdict = { readonly host: string } | { readonly refusal: string };

/** The verdict on each origin judged lately: proxies ask about a few hosts, over and over. */
const judgedOrigins = new Map<string, Verdict>();
/**
 * Origins remembered at most, each at most so long (a routable host has at most 253 characters and
 * a port); past that the memory starts over, so that a flood of hosts costs it nothing.
 */
const MOST_ORIGINS_JUDGED = 1000;
const LONGEST_ORIGIN_REMEMBERED = 280;

/** The host that the URL parser reads in `origin` (a scheme, `://` and `host`), or why not. */
function judgedHost(origin: string, host: string): Verdict {
  let judged = judgedOrigins.get(origin);
  if (judged === undefined) {
    judged = hostOf(origin, host);
    if (origin.length <= LONGEST_ORIGIN_REMEMBERED) {
      if (judgedOrigins.size >= MOST_ORIGINS_JUDGED) judgedOrigins.clear();
      judgedOrigins.set(origin, judged);
    }
  }
  return judged;
}

function hostOf(origin: string, host: string): Verdict {
  const malformed = { refusal: 'The original URL or host is malformed' };
  if (!ROUTABLE_HOST.test(host)) return malformed;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return { refusal: 'The original URL is malformed' };
  }
  const written = host
    .toLowerCase()
    .replace(/:(80|443)$/, (port) =>
      (port === ':80' && url.protocol === 'http:') || (port === ':443' && url.protocol === 'https:')
        ? ''
        : port,
    );
  if (url.username !== '' || url.password !== '' || url.host !== written) return malformed;
  return { host: url.host };
}

/** A URL whose host is known already, parsed when first read. */
class LazyUrl {
  #url: URL | undefined;
  constructor(
    readonly host: string,
    private readonly text: string,
  ) {}
  get url(): URL {
    return (this.#url ??= new URL(this.text));
  }
}

function withMethod(
  url: LazyUrl | string,
  request: FastifyRequest,
  header: 'x-forwarded-method' | 'x-original-method',
): OriginalRequest | string {
  if (typeof url === 'string') return url;
  const method = (single(request, header) ?? request.method).toUpperCase();
  if (!/^[A-Z]{1,20}$/.test(method)) return `${header} must be an HTTP method`;
  return {
    method,
    host: url.host,
    get url() {
      return url.url;
    },
  };
}

/** A header given once; undefined when absent or repeated (proxies send each once). */
function single(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  if (typeof value !== 'string') return undefined;
  // Node joins repeated headers of these names with ", "; none of them may hold one.
  return value === '' || value.includes(', ') ? undefined : value;
}
