/**
 * The pieces around a reverse proxy in the forward-auth tests: the app it protects (a Node HTTP
 * server that echoes the headers it received and keeps them for the test to read), Bienvenue as
 * a real process reached through the proxy, and requests sent to the proxy with any Host.
 */
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after } from 'node:test';
import { temporaryDirectory } from './files.js';
import { freePort } from './ports.js';
import { startIsolatedServer, type ServerProcess } from './process.js';

/** The parent domain of every host in these tests; Chromium and the helpers map it to 127.0.0.1. */
export const TEST_DOMAIN = 'bienvenue.test';

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** The request body, as text. */
  readonly body: string;
}

export interface EchoApp {
  readonly port: number;
  /** Every request the app received, oldest first. */
  readonly seen: SeenRequest[];
}

/**
 * The protected app: answers every path with 200 and the request it received (method, URL,
 * headers, body), as JSON, or for a browser as an HTML page whose `<pre>` holds that JSON.
 */
export async function startEchoApp(): Promise<EchoApp> {
  const seen: SeenRequest[] = [];
  const server = createServer((incoming, answer) => {
    let body = '';
    incoming.setEncoding('utf8');
    incoming.on('data', (chunk: string) => (body += chunk));
    incoming.on('end', () => {
      const received = {
        method: incoming.method ?? '',
        url: incoming.url ?? '',
        headers: incoming.headers,
        body,
      };
      seen.push(received);
      const json = JSON.stringify(received);
      if ((incoming.headers.accept ?? '').includes('text/html')) {
        const escaped = json.replace(/&/g, '&amp;').replace(/</g, '&lt;');
        answer.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        answer.end(`<!doctype html><title>The app</title><h1>The app</h1><pre>${escaped}</pre>`);
      } else {
        answer.writeHead(200, { 'content-type': 'application/json' });
        answer.end(json);
      }
    });
  });
  const port = await freePort();
  await new Promise<void>((done) => server.listen(port, '127.0.0.1', done));
  after(() => new Promise<void>((done) => server.close(() => done())));
  return { port, seen };
}

/**
 * Bienvenue as its users run it behind a proxy on `proxyPort`: its public URL on the auth host
 * through the proxy, the session cookie for the whole test domain, the loopback proxy trusted,
 * and `rules` (YAML) as its access rules.
 */
export async function startBienvenueBehindProxy(options: {
  proxyPort: number;
  authHost: string;
  rules: string;
}): Promise<ServerProcess & { port: number }> {
  const rulesFile = join(temporaryDirectory(), 'access-rules.yml');
  writeFileSync(rulesFile, options.rules);
  return startIsolatedServer({
    BCRYPT_ROUNDS: '4',
    RATE_LIMIT: 'off',
    LOG_LEVEL: 'warn',
    PUBLIC_URL: `http://${options.authHost}:${options.proxyPort}`,
    COOKIE_DOMAIN: TEST_DOMAIN,
    TRUST_PROXY: 'loopback',
    ACCESS_RULES_FILE: rulesFile,
  });
}

export interface ProxiedAnswer {
  readonly status: number;
  /** Header names in lower case. */
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/**
 * Sends one request to the proxy on 127.0.0.1:`port` for `host` (without its port; the proxy's
 * is added), as a browser on that name would.
 */
export function proxied(
  port: number,
  host: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<ProxiedAnswer> {
  return new Promise((done, fail) => {
    const outgoing = request(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'GET',
        path,
        headers: { host: `${host}:${port}`, ...options.headers },
        // A connection per request: no request shares a keep-alive connection with another.
        agent: false,
      },
      (incoming) => {
        let body = '';
        incoming.setEncoding('utf8');
        incoming.on('data', (chunk: string) => (body += chunk));
        incoming.on('end', () =>
          done({ status: incoming.statusCode ?? 0, headers: incoming.headers, body }),
        );
      },
    );
    outgoing.on('error', fail);
    outgoing.end(options.body);
  });
}

/** The `name=value` pair of cookie `name` among `answer`'s Set-Cookie headers. */
export function cookiePair(answer: ProxiedAnswer, name: string): string | undefined {
  return (answer.headers['set-cookie'] ?? [])
    .map((cookie) => cookie.split(';')[0] ?? '')
    .find((pair) => pair.startsWith(`${name}=`));
}
