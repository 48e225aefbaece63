/**
 * Real reverse proxies for the forward-auth tests: Debian's nginx and Caddy, each run as a
 * foreground process of its own (own prefix, configuration, pid file and logs in a temporary
 * folder, ports from ports.ts), stopped when the calling test file ends. Where a binary is
 * missing its tests are skipped with a notice, except under CI=true, where they fail instead.
 *
 * Each proxy runs the very configuration the README documents (docs/proxy/), with the example
 * hostnames and ports replaced: `auth.example.com` becomes the auth host, `app.example.com` the
 * protected hosts, `127.0.0.1:5000` Bienvenue and `127.0.0.1:8080` the app.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after } from 'node:test';
import { temporaryDirectory } from './files.js';

export type ProxyKind = 'nginx' | 'caddy';

export const PROXY_BINARIES: Readonly<Record<ProxyKind, string>> = {
  nginx: process.env.NGINX_PATH ?? '/usr/sbin/nginx',
  caddy: process.env.CADDY_PATH ?? '/usr/bin/caddy',
};

/** The documented configurations, as the README quotes them. */
export const PROXY_DOCS = resolve(import.meta.dirname, '../../../docs/proxy');

/** Why `kind` cannot be run, or undefined when it can. */
export function proxyProblem(kind: ProxyKind): string | undefined {
  const binary = PROXY_BINARIES[kind];
  return existsSync(binary) ? undefined : `${binary} not found (apt-get install ${kind})`;
}

/** Where the proxy listens and what it forwards to; every host resolves to 127.0.0.1. */
export interface ProxyLayout {
  readonly port: number;
  /** The name Bienvenue is reached at through the proxy. */
  readonly authHost: string;
  /** The names of the protected app (one server block or site serves them all). */
  readonly appHosts: readonly string[];
  readonly bienvenuePort: number;
  readonly appPort: number;
}

export interface RunningProxy {
  readonly kind: ProxyKind;
  readonly port: number;
  /** Everything the process wrote so far, and its error log. */
  output(): string;
}

/** `text` with each `[from, to]` replaced everywhere; a `from` that is absent is an error. */
export function substitute(text: string, replacements: readonly [string, string][]): string {
  let result = text;
  for (const [from, to] of replacements) {
    if (!result.includes(from)) throw new Error(`the documented configuration lacks ${from}`);
    result = result.split(from).join(to);
  }
  return result;
}

const upstreams = (layout: ProxyLayout): [string, string][] => [
  ['127.0.0.1:5000', `127.0.0.1:${layout.bienvenuePort}`],
  ['127.0.0.1:8080', `127.0.0.1:${layout.appPort}`],
];

/** docs/proxy/nginx.conf's server blocks, for `layout`. */
export function renderNginx(layout: ProxyLayout): string {
  return substitute(readFileSync(join(PROXY_DOCS, 'nginx.conf'), 'utf8'), [
    ['listen 80;', `listen 127.0.0.1:${layout.port};`],
    ['server_name auth.example.com;', `server_name ${layout.authHost};`],
    ['server_name app.example.com;', `server_name ${layout.appHosts.join(' ')};`],
    ...upstreams(layout),
  ]);
}

/** docs/proxy/Caddyfile's sites, for `layout` (plain HTTP). */
export function renderCaddyfile(layout: ProxyLayout): string {
  const site = (host: string) => `http://${host}:${layout.port}`;
  return substitute(readFileSync(join(PROXY_DOCS, 'Caddyfile'), 'utf8'), [
    ['\nauth.example.com {', `\n${site(layout.authHost)} {`],
    ['\napp.example.com {', `\n${layout.appHosts.map(site).join(', ')} {`],
    ...upstreams(layout),
  ]);
}

/** Starts `kind` in front of `layout`'s upstreams and waits until it accepts connections. */
export async function startProxy(kind: ProxyKind, layout: ProxyLayout): Promise<RunningProxy> {
  const directory = temporaryDirectory();
  // nginx's workers drop root for `nobody`, who must reach its temporary folders.
  chmodSync(directory, 0o755);
  const { args, env, errorLog } =
    kind === 'nginx' ? nginxRun(directory, layout) : caddyRun(directory, layout);
  const child = spawn(PROXY_BINARIES[kind], args, {
    cwd: directory,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let written = '';
  child.stdout.on('data', (chunk: Buffer) => (written += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (written += chunk.toString()));
  const output = () =>
    written + (existsSync(errorLog) ? `\n--- ${errorLog}\n${readFileSync(errorLog, 'utf8')}` : '');
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  });
  await untilListening(layout.port, () => child.exitCode !== null, output);
  return { kind, port: layout.port, output };
}

function nginxRun(directory: string, layout: ProxyLayout) {
  const errorLog = join(directory, 'error.log');
  const temporary = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((name) => `  ${name}_temp_path ${join(directory, name)};`)
    .join('\n');
  writeFileSync(join(directory, 'bienvenue.conf'), renderNginx(layout));
  const main = join(directory, 'nginx.conf');
  writeFileSync(
    main,
    [
      'worker_processes 1;',
      `pid ${join(directory, 'nginx.pid')};`,
      `error_log ${errorLog} warn;`,
      'events { worker_connections 256; }',
      'http {',
      `  access_log ${join(directory, 'access.log')};`,
      temporary,
      `  include ${join(directory, 'bienvenue.conf')};`,
      '}',
      '',
    ].join('\n'),
  );
  return {
    args: ['-p', directory, '-e', errorLog, '-c', main, '-g', 'daemon off;'],
    env: {},
    errorLog,
  };
}

function caddyRun(directory: string, layout: ProxyLayout) {
  const file = join(directory, 'Caddyfile');
  // No admin endpoint, no certificates, and only loopback: the test's own, throwaway server.
  const global = '{\n\tadmin off\n\tauto_https off\n\tdefault_bind 127.0.0.1\n}\n\n';
  writeFileSync(file, global + renderCaddyfile(layout));
  return {
    args: ['run', '--config', file, '--adapter', 'caddyfile'],
    // Caddy keeps its state under HOME and the XDG folders: here, the temporary folder.
    env: {
      HOME: directory,
      XDG_DATA_HOME: join(directory, 'data'),
      XDG_CONFIG_HOME: join(directory, 'config'),
    },
    errorLog: join(directory, 'none'),
  };
}

async function untilListening(port: number, ended: () => boolean, output: () => string) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (ended()) throw new Error(`the proxy exited early:\n${output()}`);
    try {
      await fetch(`http://127.0.0.1:${port}/`);
      return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the proxy did not start:\n${output()}`);
    await new Promise((done) => setTimeout(done, 50));
  }
}
