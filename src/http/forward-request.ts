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
  /** The absolute URL, as parsed. */
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
  return withMethod(parseOriginal(`${proto}://${host}${uri}`, host), request, 'x-forwarded-method');
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
  const host = url.slice(url.indexOf('//') + 2).split(/[/?#]/, 1)[0] ?? '';
  return withMethod(parseOriginal(url, host), request, 'x-original-method');
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
 * `text` parsed as the original URL, whose host part is `host`: refused with anything the parser
 * could read differently from the proxy (a host that is not plainly routable, white space or
 * backslashes anywhere, user info), and unless the parsed host is the one written.
 */
function parseOriginal(text: string, host: string): URL | string {
  if (text.length > MAX_URL_LENGTH) return 'The original URL is too long';
  // The URL parser drops tabs and newlines and reads `\` as `/`: refuse them rather than guess.
  if (/[\s\\]/.test(text) || !ROUTABLE_HOST.test(host)) {
    return 'The original URL or host is malformed';
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'The original URL is malformed';
  }
  const written = host
    .toLowerCase()
    .replace(/:(80|443)$/, (port) =>
      (port === ':80' && url.protocol === 'http:') || (port === ':443' && url.protocol === 'https:')
        ? ''
        : port,
    );
  if (url.username !== '' || url.password !== '' || url.host !== written) {
    return 'The original URL or host is malformed';
  }
  return url;
}

function withMethod(
  url: URL | string,
  request: FastifyRequest,
  header: 'x-forwarded-method' | 'x-original-method',
): OriginalRequest | string {
  if (typeof url === 'string') return url;
  const method = (single(request, header) ?? request.method).toUpperCase();
  if (!/^[A-Z]{1,20}$/.test(method)) return `${header} must be an HTTP method`;
  return { method, url };
}

/** A header given once; undefined when absent or repeated (proxies send each once). */
function single(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  if (typeof value !== 'string') return undefined;
  // Node joins repeated headers of these names with ", "; none of them may hold one.
  return value === '' || value.includes(', ') ? undefined : value;
}
