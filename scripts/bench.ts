/**
 * `npm run bench`: the service's performance measured, in one run on this machine, side by side
 * with what bounds it: a bare Fastify server (the "hello"), the machine's raw hash ceiling, the
 * same page served through nginx without protection, and a peer (Better Auth on SQLite).
 *
 * - The hash ceilings: bcrypt at the configured cost and argon2id at OWASP's minimum (19456 KiB,
 *   2 iterations, 1 lane), each with as many hashes in flight as the machine has cores, no HTTP:
 *   once at the start, and again just before and just after each login and sign-up run, whose
 *   ratio is to the mean of those two.
 * - For each engine (SQLite in a temporary folder; PostgreSQL too when reachable) the real service
 *   (`node dist/bienvenue.js`, RATE_LIMIT=off) driven by autocannon: session checks (GET /profile
 *   with a valid cookie) and forward-auth checks (GET /auth/forward, as Caddy asks), taking turns
 *   with the hello; on PostgreSQL the session checks and the hello again at
 *   `--postgres-connections`; logins, sign-ups (unique emails), a mix (9 session checks to 1
 *   login), and session checks during a saturating login storm, each round of it beside session
 *   checks idle (its ratio is the median round's, its p99 the rounds' median); then session
 *   checks with `--large-accounts` × `--sessions-per-account` sessions against `--small-sessions`.
 * - On SQLite also: Debian's nginx in front (the README's configuration: auth_request to the
 *   service, then a static upstream) against the same page through the same nginx unprotected;
 *   logins and the mix with PASSWORD_HASH=argon2id; and the peer's session check (get-session)
 *   taking turns with the hello, and once more with its cookie cache on.
 * - The start to the first answer on a new database (the median of `--starts` starts, 5, or 1
 *   with --quick), and each server's peak resident memory.
 *
 * Pairs that can take turns do, `--rounds` times (1 with --quick), the order reversing every
 * round, and a ratio is the median of its rounds' ratios: on a shared machine the speed of
 * everything drifts over minutes, and taking turns puts the drift on both sides of the ratio.
 * Each round's rates are printed and kept in the JSON.
 *
 * Request-bound scenarios run with `--connections` clients, each cycling through the signed-in
 * sessions; those bound by hashing (logins, sign-ups, the mix, the storm's logins) with
 * `--login-connections`, since more clients only lengthen the queue for the hash.
 *
 * Usage: npm run bench -- [--duration S] [--connections N] [--login-connections N] [--rounds N]
 *                         [--postgres-connections N] [--small-sessions N] [--large-accounts N]
 *                         [--sessions-per-account N] [--engines sqlite,postgres]
 *                         [--starts N] [--out FILE] [--quick]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { hash as argon2Hash } from '@node-rs/argon2';
import autocannon from 'autocannon';
import bcrypt from 'bcrypt';
import pg from 'pg';
import { digestToken, generateSessionPublicId, generateUuid } from '../src/auth/tokens.js';
import { loadConfig } from '../src/config.js';
import { openDatabase, type Engine } from '../src/db/connection.js';
import { migrateToLatest } from '../src/db/migrations.js';
import { freePort } from '../test/support/ports.js';
import { PROXY_BINARIES, renderNginx } from '../test/support/proxies.js';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '100' },
    'login-connections': { type: 'string', default: '16' },
    'postgres-connections': { type: 'string', default: '16' },
    rounds: { type: 'string', default: '3' },
    'small-sessions': { type: 'string', default: '1000' },
    'large-accounts': { type: 'string' },
    'sessions-per-account': { type: 'string', default: '10' },
    engines: { type: 'string' },
    starts: { type: 'string' },
    out: { type: 'string', default: 'bench-results.json' },
    quick: { type: 'boolean', default: false },
  },
});
const quick = args.quick;
const duration = quick ? 2 : Number(args.duration);
const connections = Number(args.connections);
const loginConnections = Number(args['login-connections']);
const postgresConnections = Number(args['postgres-connections']);
const rounds = quick ? 1 : Number(args.rounds);
const smallSessions = Number(args['small-sessions']);
const largeAccounts = Number(args['large-accounts'] ?? (quick ? 1000 : 100_000));
const sessionsPerAccount = Number(args['sessions-per-account']);
if (!Number.isInteger(rounds) || rounds < 1 || rounds % 2 === 0) {
  throw new Error(`--rounds ${args.rounds}: expected an odd number, so that a round is the median`);
}
const postgresUrl = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
// The project's root: this file runs as dist/scripts/bench.js.
const root = resolve(import.meta.dirname, '../..');
const settings = loadConfig({});
if (
  !Number.isInteger(sessionsPerAccount) ||
  sessionsPerAccount < 1 ||
  sessionsPerAccount > settings.sessionsPerUser
) {
  // More than the service's cap is a state no login could reach.
  throw new Error(
    `--sessions-per-account ${args['sessions-per-account']}: expected 1 to ` +
      `SESSIONS_PER_USER (${settings.sessionsPerUser})`,
  );
}
const smallAccounts = smallSessions / sessionsPerAccount;
if (!Number.isInteger(smallAccounts) || smallAccounts < 1 || smallAccounts > largeAccounts) {
  throw new Error(
    `--small-sessions ${smallSessions}: expected a multiple of --sessions-per-account, ` +
      `for at most --large-accounts accounts`,
  );
}
const cores = availableParallelism();
const PASSWORD = 'bench password 1';
/** OWASP's minimum for argon2id, the defaults of ARGON2_MEMORY_KIB, _ITERATIONS, _PARALLELISM. */
const ARGON2 = { memoryCost: 19456, timeCost: 2, parallelism: 1 };
/** The service's own settings for PASSWORD_HASH=argon2id, or why it cannot run with them. */
const argon2Service = argon2Support();

function argon2Support(): { env: Record<string, string> } | { missing: string } {
  const env = {
    PASSWORD_HASH: 'argon2id',
    ARGON2_MEMORY_KIB: String(ARGON2.memoryCost),
    ARGON2_ITERATIONS: String(ARGON2.timeCost),
    ARGON2_PARALLELISM: String(ARGON2.parallelism),
  };
  try {
    // A configuration that knows the setting keeps its value somewhere; one that does not
    // ignores it.
    if (Object.values(loadConfig(env)).includes('argon2id')) return { env };
  } catch {
    // refused: not supported either
  }
  return { missing: 'needs PASSWORD_HASH support' };
}

interface Run {
  engine: string;
  scenario: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  peakRssMb: number | null;
}
const runs: Run[] = [];

// ---------------------------------------------------------------------------------------------
// Processes

interface Server {
  url: string;
  port: number;
  child: ChildProcess;
  startMs: number;
  stop(): Promise<void>;
}

/** Every process started and not yet stopped: ended with the benchmark, even if it fails. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function stopper(child: ChildProcess) {
  return async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      await exited;
    }
    running.delete(child);
  };
}

/** Starts `script` on a free port; its start is the time until `GET /` first answers 200. */
async function startProcess(script: string, env: Record<string, string>): Promise<Server> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, [join(root, script)], {
    env: { PATH: process.env.PATH ?? '', PORT: String(port), HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  running.add(child);
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${script} exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/`)).ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 5));
  }
  const startMs = performance.now() - started;
  return { url, port, child, startMs, stop: stopper(child) };
}

/** The real service on the database at `url`. */
function startService(url: string, env: Record<string, string> = {}): Promise<Server> {
  return startProcess('dist/bienvenue.js', {
    RATE_LIMIT: 'off',
    LOG_LEVEL: 'warn',
    SMTP_URL: '',
    DATABASE_URL: url,
    ...env,
  });
}

/** Samples the resident memory of `pids` (summed) while `work` runs; the peak, in MB. */
async function withPeakRss<T>(
  pids: (number | undefined)[],
  work: Promise<T>,
): Promise<[T, number | null]> {
  let peak = 0;
  const sample = () => {
    let kb = 0;
    for (const pid of pids) {
      try {
        kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
      } catch {
        // not Linux, or gone
      }
    }
    if (kb > peak) peak = kb;
  };
  sample();
  const timer = setInterval(sample, 100);
  try {
    const result = await work;
    sample();
    return [result, peak > 0 ? Math.round(peak / 1024) : null];
  } finally {
    clearInterval(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// Load

type Request = autocannon.Request;
type Measured = [autocannon.Result, number | null];

interface LoadTarget {
  /** The processes whose memory is sampled. */
  servers: Server[];
  url: string;
  requests: Request[];
  clients?: number;
}

function load(url: string, requests: Request[], clients: number) {
  return autocannon({ url, connections: clients, duration, requests });
}

const measure = ({ servers, url, requests, clients }: LoadTarget) =>
  withPeakRss(
    servers.map((server) => server.child.pid),
    load(url, requests, clients ?? connections),
  );

const perSecond = ([result]: Measured) => result.requests.total / duration;
const p99Of = ([result]: Measured) => result.latency.p99;

/** Each round's requests per second of each group that took turns, for the JSON. */
const alternations: { engine: string; names: string[]; rates: number[][] }[] = [];

/** The runs of targets that took turns, each target's runs in round order. */
class Alternated {
  constructor(readonly runs: ReadonlyMap<string, Measured[]>) {}

  /** The median over the rounds of `other` ÷ `base`. */
  ratio(base: string, other: string): number {
    const a = this.of(base);
    const b = this.of(other);
    return median(a.map((run, i) => ratio(perSecond(b[i] as Measured), perSecond(run))));
  }

  /** `name`'s run of median rate, to record. */
  median(name: string): Measured {
    const sorted = [...this.of(name)].sort((x, y) => perSecond(x) - perSecond(y));
    return sorted[(sorted.length - 1) / 2] as Measured;
  }

  private of(name: string): Measured[] {
    const found = this.runs.get(name);
    if (found === undefined) throw new Error(`no runs of ${name}`);
    return found;
  }
}

/** Loads each of `targets` in turn, `rounds` times, the order reversing every round. */
async function alternate(engine: string, targets: [string, LoadTarget][]): Promise<Alternated> {
  const measured = new Map<string, Measured[]>(targets.map(([name]) => [name, []]));
  const rates: number[][] = [];
  for (let round = 1; round <= rounds; round += 1) {
    const order = round % 2 === 1 ? targets : [...targets].reverse();
    for (const [name, target] of order) measured.get(name)?.push(await measure(target));
    const rate = targets.map(([name]) => perSecond(measured.get(name)?.[round - 1] as Measured));
    rates.push(rate.map(Math.round));
    process.stdout.write(
      `  round ${round} of ${rounds}: ` +
        `${targets.map(([name], i) => `${name} ${Math.round(rate[i] ?? 0)}/s`).join(', ')}\n`,
    );
  }
  alternations.push({ engine, names: targets.map(([name]) => name), rates });
  return new Alternated(measured);
}

/** A first, unrecorded run, so that the JIT has compiled the hot paths before measuring. */
async function warmUp(url: string, requests: Request[], clients = connections): Promise<void> {
  await autocannon({ url, connections: clients, duration: Math.min(3, duration), requests });
}

function record(engine: string, scenario: string, [result, rss]: Measured): Run {
  const run = {
    engine,
    scenario,
    // Completed answers over the run's length; one decimal, as logins run at a few a second.
    requestsPerSecond: Math.round((result.requests.total / duration) * 10) / 10,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    peakRssMb: rss,
  };
  runs.push(run);
  process.stdout.write(
    `  ${engine.padEnd(10)} ${scenario.padEnd(44)} ${String(run.requestsPerSecond).padStart(8)}/s` +
      `  p50 ${run.p50Ms} ms  p99 ${run.p99Ms} ms  errors ${run.errors}` +
      `${rss === null ? '' : `  ${rss} MB`}\n`,
  );
  return run;
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const FORM_HEADERS = { 'content-type': 'application/x-www-form-urlencoded' };

/** A session check (`GET /profile`) for each of `tokens`. */
function profileRequests(tokens: string[]): Request[] {
  return tokens.map((token) => ({
    method: 'GET',
    path: '/profile',
    headers: { cookie: `session_id=${token}` },
  }));
}

/**
 * A forward-auth check (`GET /auth/forward`, as Caddy asks it) for each of `tokens`: the
 * session check plus the access rules, with the original request in `X-Forwarded-*`.
 */
function forwardAuthRequests(tokens: string[]): Request[] {
  return tokens.map((token) => ({
    method: 'GET',
    path: '/auth/forward',
    headers: {
      cookie: `session_id=${token}`,
      'x-forwarded-method': 'GET',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'app.example.com',
      'x-forwarded-uri': '/dashboard?tab=1',
    },
  }));
}

const loginRequest = (email: string): Request => ({
  method: 'POST',
  path: '/sessions',
  headers: FORM_HEADERS,
  body: form({ email, password: PASSWORD }),
});

let signUps = 0;
/** Sign-ups, each with an email of its own. */
const uniqueSignUp: Request = {
  method: 'POST',
  path: '/users',
  headers: FORM_HEADERS,
  setupRequest: (request) => ({
    ...request,
    body: form({ email: `new${process.pid}-${(signUps += 1)}@example.com`, password: PASSWORD }),
  }),
};

async function signUp(url: string, email: string): Promise<void> {
  const response = await fetch(`${url}/users`, {
    method: 'POST',
    headers: FORM_HEADERS,
    body: form({ email, password: PASSWORD }),
  });
  if (response.status !== 200) throw new Error(`sign-up failed: ${response.status}`);
}

// ---------------------------------------------------------------------------------------------
// Databases

interface BenchDatabase {
  url: string;
  drop(): Promise<void>;
}

async function createDatabase(engine: Engine, folder: string): Promise<BenchDatabase> {
  if (engine === 'sqlite') {
    return { url: `sqlite:${join(folder, `${randomUUID()}.db`)}`, drop: () => Promise.resolve() };
  }
  const name = `bienvenue_bench_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(postgresUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const again = new pg.Client({ connectionString: postgresUrl });
      await again.connect();
      await again.query(`DROP DATABASE ${name} WITH (FORCE)`);
      await again.end();
    },
  };
}

/** `of` indexes spread evenly over 0 … `count` - 1 (all of them when `of` is `count`). */
function spread(count: number, of: number): number[] {
  if (of > count) throw new Error(`cannot pick ${of} of ${count}`);
  return Array.from({ length: of }, (_, i) => Math.floor(((i + 0.5) * count) / of));
}

/** Session rows written by one PostgreSQL statement at most. */
const SEED_BATCH = 10_000;

/**
 * Migrates the database at `url` if needed, adds `accounts` accounts sharing one precomputed
 * hash (one statement), and `sessionsEach` sessions for each, written as rows the way a login
 * writes them but with no hash; returns the session tokens of the accounts at `checked` (indexes
 * into the accounts), each account's in a list. All sessions go in one transaction, generated as
 * they are written (a million rows are never held in memory): on SQLite through one prepared
 * statement run for each row, on PostgreSQL in statements of {@link SEED_BATCH} rows through a
 * connection of its own (the service's query time-out would cut them).
 */
async function seed(
  url: string,
  {
    accounts,
    sessionsEach,
    checked,
  }: { accounts: number; sessionsEach: number; checked: number[] },
  hash: string,
): Promise<string[][]> {
  const database = openDatabase(url);
  try {
    await migrateToLatest(database);
    const now = Date.now();
    const expiresAt = now + settings.sessionTtl * 1000;
    const wanted = new Set(checked);
    const tokens = new Map<number, string[]>();
    // Each session's public id, token digest and account index, in order, made as they are read.
    function* sessionRows(): Generator<[string, string, number]> {
      for (let account = 0; account < accounts; account += 1) {
        const kept: string[] = [];
        for (let s = 0; s < sessionsEach; s += 1) {
          const token = generateUuid();
          if (wanted.has(account)) kept.push(token);
          yield [generateSessionPublicId(), digestToken(token), account];
        }
        if (wanted.has(account)) tokens.set(account, kept);
      }
    }
    const prefix = `seed-${randomUUID().slice(0, 8)}-`;
    let written = 0;
    if (database.engine === 'postgres') {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query('BEGIN');
        const first = await client.query<{ id: string }>(
          `INSERT INTO users (email, email_key, hashed_password, created_at, updated_at)
           SELECT $1 || n || '@example.com', $1 || n || '@example.com', $2, $3, $3
           FROM generate_series(0, $4::int - 1) AS n ORDER BY n RETURNING id`,
          [prefix, hash, now, accounts],
        );
        const ids = first.rows.map((row) => Number(row.id));
        let batch: [string[], string[], number[]] = [[], [], []];
        const flush = async () => {
          const result = await client.query(
            `INSERT INTO sessions (id, user_id, token_digest, created_at, last_seen_at, expires_at,
                                   ip, user_agent, auth_method)
             SELECT s.id, s.user_id, s.digest, $4, $4, $5, NULL, NULL, 'password'
             FROM unnest($1::text[], $2::text[], $3::bigint[]) AS s(id, digest, user_id)`,
            [...batch, now, expiresAt],
          );
          written += result.rowCount ?? 0;
          batch = [[], [], []];
        };
        for (const [id, digest, account] of sessionRows()) {
          batch[0].push(id);
          batch[1].push(digest);
          batch[2].push(ids[account] as number);
          if (batch[0].length >= SEED_BATCH) await flush();
        }
        if (batch[0].length > 0) await flush();
        await client.query('COMMIT');
      } finally {
        await client.end();
      }
    } else {
      const sqlite = database.sqlite;
      if (sqlite === undefined) throw new Error('SQLite database without its connection');
      // A throwaway file: no sync at commit, and a page cache that holds the token index whole
      // while a million random digests go into it (the default's 2 MB makes that minutes).
      sqlite.pragma('synchronous = OFF');
      sqlite.pragma('cache_size = -262144');
      sqlite.transaction(() => {
        sqlite
          .prepare(
            `INSERT INTO users (email, email_key, hashed_password, created_at, updated_at)
             WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < ? - 1)
             SELECT ? || n || '@example.com', ? || n || '@example.com', ?, ?, ? FROM seq`,
          )
          .run(accounts, prefix, prefix, hash, now, now);
        const firstId = sqlite
          .prepare('SELECT id FROM users WHERE email_key = ?')
          .pluck()
          .get(`${prefix}0@example.com`) as number;
        const insert = sqlite.prepare(
          `INSERT INTO sessions (id, user_id, token_digest, created_at, last_seen_at, expires_at,
                                 ip, user_agent, auth_method)
           VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, 'password')`,
        );
        for (const [id, digest, account] of sessionRows()) {
          written += insert.run(id, firstId + account, digest, now, now, expiresAt).changes;
        }
      })();
      // Leave no large WAL behind for the service to read through.
      sqlite.pragma('wal_checkpoint(TRUNCATE)');
    }
    if (written !== accounts * sessionsEach) {
      throw new Error(`seeded ${written} of ${accounts * sessionsEach} sessions`);
    }
    return checked.map((index) => tokens.get(index) ?? []);
  } finally {
    await database.kysely.destroy();
  }
}

async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// nginx

/** The static page behind nginx, and the name nginx serves it unprotected under. */
const OPEN_HOST = 'open.example.com';
const APP_HOST = 'app.example.com';

/**
 * Debian's nginx, one worker, in front of the service at `bienvenuePort`: the README's server
 * blocks (docs/proxy/nginx.conf), with `app.example.com` protected by auth_request; the same
 * page under `open.example.com` with no protection; and the page itself, a static answer of
 * nginx's own. Both upstreams keep their connections open (keepalive), as a proxy under load
 * must: a new connection per request would exhaust the local ports within seconds.
 */
async function startNginx(bienvenuePort: number): Promise<Server> {
  const directory = mkdtempSync(join(tmpdir(), 'bienvenue-bench-nginx-'));
  // nginx's workers drop root for `nobody`, who must reach its temporary folders.
  chmodSync(directory, 0o755);
  process.once('exit', () => rmSync(directory, { recursive: true, force: true }));
  const [port, pagePort] = [await freePort(), await freePort()];
  const keepAlive = (text: string) =>
    text
      .replaceAll(`http://127.0.0.1:${bienvenuePort}`, 'http://bienvenue')
      .replaceAll(`http://127.0.0.1:${pagePort}`, 'http://page')
      .replace(
        /^(\s*)proxy_pass (.*);$/gm,
        '$1proxy_pass $2;\n$1proxy_http_version 1.1;\n$1proxy_set_header Connection "";',
      );
  const documented = renderNginx({
    port,
    authHost: 'auth.example.com',
    appHosts: [APP_HOST],
    bienvenuePort,
    appPort: pagePort,
  });
  const open = `server {
    listen 127.0.0.1:${port};
    server_name ${OPEN_HOST};
    location / {
        proxy_pass http://127.0.0.1:${pagePort};
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Forwarded-Host $host;
    }
}
`;
  const errorLog = join(directory, 'error.log');
  const config = [
    'worker_processes 1;',
    `pid ${join(directory, 'nginx.pid')};`,
    `error_log ${errorLog} warn;`,
    'events { worker_connections 4096; }',
    'http {',
    '  access_log off;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
      (name) => `  ${name}_temp_path ${join(directory, name)};`,
    ),
    `  upstream bienvenue { server 127.0.0.1:${bienvenuePort}; keepalive 64; }`,
    `  upstream page { server 127.0.0.1:${pagePort}; keepalive 64; }`,
    `  server { listen 127.0.0.1:${pagePort}; location / { default_type text/html;` +
      ` return 200 '<!doctype html><title>App</title><p>Hello</p>\\n'; } }`,
    keepAlive(documented),
    keepAlive(open),
    '}',
    '',
  ].join('\n');
  const file = join(directory, 'nginx.conf');
  writeFileSync(file, config);
  const child = spawn(
    PROXY_BINARIES.nginx,
    ['-p', directory, '-e', errorLog, '-c', file, '-g', 'daemon off;'],
    { cwd: directory, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  running.add(child);
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  for (;;) {
    if (child.exitCode !== null) {
      const log = existsSync(errorLog) ? readFileSync(errorLog, 'utf8') : '';
      throw new Error(`nginx exited with ${child.exitCode}\n${log}`);
    }
    try {
      await fetch(`${url}/`, { headers: { host: OPEN_HOST } });
      break;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 20));
  }
  return { url, port, child, startMs: performance.now() - started, stop: stopper(child) };
}

// ---------------------------------------------------------------------------------------------
// The peer

interface Peer {
  server: Server;
  requests: Request[];
}

/**
 * Better Auth (scripts/bench-peer.ts) on a SQLite file of its own, with `users` accounts signed
 * up through its API (its own password hashing), and a session check (get-session) for each.
 */
async function startPeer(folder: string, users: number, cookieCache: boolean): Promise<Peer> {
  const server = await startProcess('dist/scripts/bench-peer.js', {
    NODE_ENV: 'production',
    PEER_DATABASE: join(folder, `peer-${randomUUID()}.db`),
    PEER_COOKIE_CACHE: cookieCache ? '1' : '0',
  });
  const cookies: string[] = [];
  for (let i = 0; i < users; i += 1) {
    const response = await fetch(`${server.url}/api/auth/sign-up/email`, {
      method: 'POST',
      // Its own origin, as its client would send from a page it serves (fetch says it is a
      // cross-origin call otherwise, and Better Auth refuses it).
      headers: { 'content-type': 'application/json', origin: server.url },
      body: JSON.stringify({
        email: `peer${i}@example.com`,
        password: PASSWORD,
        name: `Peer ${i}`,
      }),
    });
    if (!response.ok) throw new Error(`peer sign-up failed: ${response.status}`);
    cookies.push(
      response.headers
        .getSetCookie()
        .map((cookie) => cookie.split(';')[0])
        .join('; '),
    );
  }
  const requests = cookies.map((cookie) => ({
    method: 'GET',
    path: '/api/auth/get-session',
    headers: { cookie },
  }));
  // The check must be what it claims: a session found.
  const answer = await fetch(`${server.url}/api/auth/get-session`, {
    headers: { cookie: cookies[0] ?? '' },
  });
  const body = (await answer.json()) as { user?: { email?: string } } | null;
  if (body?.user?.email !== 'peer0@example.com') throw new Error('the peer found no session');
  return { server, requests };
}

// ---------------------------------------------------------------------------------------------
// The run

const folder = mkdtempSync(join(tmpdir(), 'bienvenue-bench-'));
// Its SQLite files go with it, even if the run fails (PostgreSQL's bienvenue_bench_* databases
// of a failed run stay, for a look).
process.once('exit', () => rmSync(folder, { recursive: true, force: true }));
const engines: Engine[] = args.engines
  ? (args.engines.split(',') as Engine[])
  : quick
    ? ['sqlite']
    : (['sqlite', ...((await postgresReachable()) ? ['postgres' as const] : [])] as Engine[]);
const nginxAvailable = existsSync(PROXY_BINARIES.nginx);
process.stdout.write(
  `Bienvenue benchmark: ${cores} cores, bcrypt cost ${settings.bcryptRounds}, ` +
    `hash concurrency ${String(settings.hashConcurrency)}, ${connections} connections ` +
    `(${loginConnections} for logins and sign-ups), ${duration} s a run, ${rounds} round(s)\n`,
);

// The hash ceilings first, with nothing else running.
async function hashCeiling(name: string, hashOnce: () => Promise<unknown>): Promise<number> {
  let done = 0;
  const started = performance.now();
  const deadline = started + duration * 1000;
  await Promise.all(
    Array.from({ length: cores }, async () => {
      while (performance.now() < deadline) {
        await hashOnce();
        done += 1;
      }
    }),
  );
  const rate = done / ((performance.now() - started) / 1000);
  process.stdout.write(
    `  ${'machine'.padEnd(10)} ${`${name} ceiling, ${cores} in flight`.padEnd(44)} ${rate.toFixed(2).padStart(8)}/s\n`,
  );
  return rate;
}
const bcryptCeilingNow = () =>
  hashCeiling(`bcrypt ${settings.bcryptRounds}`, () =>
    bcrypt.hash(PASSWORD, settings.bcryptRounds),
  );
const argon2CeilingNow = () =>
  hashCeiling('argon2id 19456/2/1', () => argon2Hash(PASSWORD, ARGON2));
const bcryptCeiling = await bcryptCeilingNow();
const argon2Ceiling = await argon2CeilingNow();
/** Every ceiling measured beside a run, for the JSON. */
const ceilingsBeside: { scenario: string; engine: Engine; before: number; after: number }[] = [];
const hashOfPassword = await bcrypt.hash(PASSWORD, settings.bcryptRounds);

// The baseline, a bare Fastify hello, runs until the end: everything request-bound takes turns
// with it.
const hello = await startProcess('dist/scripts/bench-hello.js', {});
const helloTarget = (clients = connections): LoadTarget => ({
  servers: [hello],
  url: hello.url,
  requests: [{ method: 'GET', path: '/' }],
  clients,
});
await warmUp(hello.url, helloTarget().requests);

interface EngineFigures {
  engine: Engine;
  /** The median of {@link STARTS} starts, and each of them. */
  startMs: number;
  startsMs: number[];
  checks: Alternated;
  postgresChecks?: Alternated;
  login: Run;
  /** The ceilings, measured just before and just after the run, and their mean. */
  loginCeiling: number;
  signUp: Run;
  signUpCeiling: number;
  mixed: Run;
  /** The median round's ratio of checks in the storm to checks idle, and the rounds' median p99. */
  stormFigures: { ratio: number; p99Ms: number };
  nginx?: Alternated;
  argon2?: { login: Run; loginCeiling: number; mixed: Run } | { missing: string };
  peer?: { turns: Alternated; cookieCache: Run };
  scale: Alternated;
}
const figures: EngineFigures[] = [];
/** One round of session checks idle, and of session checks and logins in a login storm. */
interface StormRound {
  idle: Measured;
  checks: Measured;
  logins: Measured;
}
const stormRounds: {
  engine: string;
  rounds: { idle: number; storm: number; p99Ms: number; logins: number }[];
}[] = [];
/**
 * Waits until the hashes still queued when a run ended are done (they would slow the next run
 * down): one more login of `email`, queued behind them, answers once they are.
 */
async function hashingDrain(url: string, email: string): Promise<void> {
  const response = await fetch(`${url}/sessions`, {
    method: 'POST',
    headers: FORM_HEADERS,
    body: form({ email, password: PASSWORD }),
  });
  await response.arrayBuffer();
}

/** Starts measured per engine, each on a new database; the row is their median. */
const STARTS = Number(args.starts ?? (quick ? 1 : 5));

for (const engine of engines) {
  // One start is one sample of a noisy machine: the first ones start and stop at once.
  const startsMs: number[] = [];
  for (let start = 1; start < STARTS; start += 1) {
    const spare = await createDatabase(engine, folder);
    const started = await startService(spare.url);
    startsMs.push(Math.round(started.startMs));
    await started.stop();
    await spare.drop();
  }
  const database = await createDatabase(engine, folder);
  const server = await startService(database.url);
  startsMs.push(Math.round(server.startMs));
  const startMs = median(startsMs);
  process.stdout.write(
    `  ${engine.padEnd(10)} started on a new database: ${startMs} ms (median of ${startsMs.join(', ')})\n`,
  );

  // As many signed-in accounts as connections (seeded: signing each in would take a hash), each
  // connection cycling through all their sessions; and one account for the logins.
  const tokens = (
    await seed(
      database.url,
      { accounts: connections, sessionsEach: 1, checked: spread(connections, connections) },
      hashOfPassword,
    )
  ).flat();
  const profiles = profileRequests(tokens);
  await signUp(server.url, 'storm@example.com');
  const stormLogin = loginRequest('storm@example.com');
  const on = (target: Server, requests: Request[], clients = connections): LoadTarget => ({
    servers: [target],
    url: target.url,
    requests,
    clients,
  });

  const measureOnce = async (scenario: string, target: LoadTarget, email = 'storm@example.com') => {
    const measured = await measure(target);
    await hashingDrain(target.url, email);
    return record(engine, scenario, measured);
  };
  // A hash-bound run against the machine's ceiling measured just before and just after it, so
  // that both come from the same minutes of a machine whose speed drifts.
  const againstCeiling = async (
    scenario: string,
    target: LoadTarget,
    ceilingNow: () => Promise<number>,
    email?: string,
  ): Promise<[Run, number]> => {
    const before = await ceilingNow();
    const run = await measureOnce(scenario, target, email);
    const after = await ceilingNow();
    ceilingsBeside.push({ scenario, engine, before, after });
    return [run, (before + after) / 2];
  };
  await warmUp(server.url, profiles);
  const checks = await alternate(engine, [
    ['hello', helloTarget()],
    ['session check', on(server, profiles)],
    ['forward-auth check', on(server, forwardAuthRequests(tokens))],
  ]);
  record(engine, 'bare Fastify hello', checks.median('hello'));
  record(engine, 'session check', checks.median('session check'));
  record(engine, 'forward-auth check', checks.median('forward-auth check'));
  let postgresChecks: Alternated | undefined;
  if (engine === 'postgres') {
    postgresChecks = await alternate(engine, [
      [`hello, ${postgresConnections} connections`, helloTarget(postgresConnections)],
      [
        `session check, ${postgresConnections} connections`,
        on(server, profiles, postgresConnections),
      ],
    ]);
    for (const name of postgresChecks.runs.keys())
      record(engine, name, postgresChecks.median(name));
  }
  const [login, loginCeiling] = await againstCeiling(
    'login',
    on(server, [stormLogin], loginConnections),
    bcryptCeilingNow,
  );
  const [signUpRun, signUpCeiling] = await againstCeiling(
    'sign-up',
    on(server, [uniqueSignUp], loginConnections),
    bcryptCeilingNow,
  );
  const mixed = await measureOnce(
    'mixed: 90% checks, 10% logins',
    on(server, [...profiles.slice(0, 9), stormLogin], loginConnections),
  );
  // Each round measures session checks idle and in a storm, one right after the other (the order
  // reversing every round), so that each ratio comes from the same minutes of a drifting machine.
  const inStorm = async (): Promise<Omit<StormRound, 'idle'>> => {
    const [[checks, logins], rss] = await withPeakRss(
      [server.child.pid],
      Promise.all([
        load(server.url, profiles, connections),
        load(server.url, [stormLogin], loginConnections),
      ]),
    );
    await hashingDrain(server.url, 'storm@example.com');
    return { checks: [checks, rss], logins: [logins, rss] };
  };
  const stormRuns: StormRound[] = [];
  for (let round = 1; round <= rounds; round += 1) {
    const idleBefore = round % 2 === 1 ? await measure(on(server, profiles)) : undefined;
    const inTheStorm = await inStorm();
    const idle = idleBefore ?? (await measure(on(server, profiles)));
    stormRuns.push({ idle, ...inTheStorm });
    process.stdout.write(
      `  storm round ${round} of ${rounds}: session checks ${Math.round(perSecond(idle))}/s ` +
        `idle, ${Math.round(perSecond(inTheStorm.checks))}/s in the storm ` +
        `(p99 ${p99Of(inTheStorm.checks)} ms)\n`,
    );
  }
  // The round of the median ratio is recorded; the p99 is the median of the rounds'.
  const stormRatio = (run: StormRound) => perSecond(run.checks) / perSecond(run.idle);
  const middle = [...stormRuns].sort((a, b) => stormRatio(a) - stormRatio(b))[
    (stormRuns.length - 1) / 2
  ] as StormRound;
  record(engine, 'session check during login storm', middle.checks);
  record(engine, 'login storm (alongside)', middle.logins);
  stormRounds.push({
    engine,
    rounds: stormRuns.map((run) => ({
      idle: Math.round(perSecond(run.idle)),
      storm: Math.round(perSecond(run.checks)),
      p99Ms: p99Of(run.checks),
      logins: Math.round(perSecond(run.logins) * 10) / 10,
    })),
  });
  const stormFigures = {
    ratio: stormRatio(middle),
    p99Ms: median(stormRuns.map((run) => p99Of(run.checks))),
  };

  // Through nginx: the same static page, protected by auth_request and not.
  let nginx: Alternated | undefined;
  if (engine === 'sqlite' && nginxAvailable) {
    const proxy = await startNginx(server.port);
    const page = (host: string, withCookies: boolean): Request[] =>
      (withCookies ? tokens : ['']).map((token) => ({
        method: 'GET',
        path: '/dashboard?tab=1',
        headers: { host, ...(withCookies && { cookie: `session_id=${token}` }) },
      }));
    const through = (requests: Request[]): LoadTarget => ({
      servers: [proxy, server],
      url: proxy.url,
      requests,
    });
    await warmUp(proxy.url, page(APP_HOST, true));
    nginx = await alternate(engine, [
      ['nginx, unprotected', through(page(OPEN_HOST, false))],
      ['nginx, protected', through(page(APP_HOST, true))],
    ]);
    record(engine, 'page through nginx, unprotected', nginx.median('nginx, unprotected'));
    record(engine, 'page through nginx, auth_request', nginx.median('nginx, protected'));
    await proxy.stop();
  }
  await server.stop();
  await database.drop();

  // argon2id: logins, and the mix whose memory is the target's.
  let argon2: EngineFigures['argon2'];
  if (engine === 'sqlite') {
    if ('missing' in argon2Service) {
      argon2 = argon2Service;
      process.stdout.write(`  ${engine.padEnd(10)} argon2id logins skipped: ${argon2.missing}\n`);
    } else {
      const argonDatabase = await createDatabase(engine, folder);
      const argonServer = await startService(argonDatabase.url, argon2Service.env);
      const argonTokens = (
        await seed(
          argonDatabase.url,
          { accounts: connections, sessionsEach: 1, checked: spread(connections, connections) },
          hashOfPassword,
        )
      ).flat();
      await signUp(argonServer.url, 'argon@example.com');
      const argonLogin = loginRequest('argon@example.com');
      await warmUp(argonServer.url, profileRequests(argonTokens));
      const [argonLogins, argonCeiling] = await againstCeiling(
        'login, argon2id',
        on(argonServer, [argonLogin], loginConnections),
        argon2CeilingNow,
        'argon@example.com',
      );
      argon2 = {
        login: argonLogins,
        loginCeiling: argonCeiling,
        mixed: await measureOnce(
          'mixed: 90% checks, 10% logins, argon2id',
          on(
            argonServer,
            [...profileRequests(argonTokens).slice(0, 9), argonLogin],
            loginConnections,
          ),
          'argon@example.com',
        ),
      };
      await argonServer.stop();
      await argonDatabase.drop();
    }
  }

  // The peer, beside the hello, with the same connections cycling through as many sessions.
  let peer: EngineFigures['peer'];
  if (engine === 'sqlite') {
    const users = quick ? 10 : connections;
    const betterAuth = await startPeer(folder, users, false);
    await warmUp(betterAuth.server.url, betterAuth.requests);
    const turns = await alternate(engine, [
      ['hello', helloTarget()],
      ['Better Auth get-session', on(betterAuth.server, betterAuth.requests)],
    ]);
    record(engine, 'Better Auth: bare Fastify hello', turns.median('hello'));
    record(engine, 'Better Auth get-session', turns.median('Better Auth get-session'));
    await betterAuth.server.stop();
    const cached = await startPeer(folder, users, true);
    await warmUp(cached.server.url, cached.requests);
    const cookieCache = record(
      engine,
      'Better Auth get-session, cookie cache',
      await measure(on(cached.server, cached.requests)),
    );
    await cached.server.stop();
    peer = { turns, cookieCache };
  }

  // The two sizes side by side: a service on each, their session checks taking turns. Both check
  // as many sessions of as many accounts: all of the small table's, and as many accounts' spread
  // over the large one.
  const startScaled = async (accounts: number) => {
    const scaled = await createDatabase(engine, folder);
    const seedStarted = performance.now();
    const sessions = await seed(
      scaled.url,
      { accounts, sessionsEach: sessionsPerAccount, checked: spread(accounts, smallAccounts) },
      hashOfPassword,
    );
    process.stdout.write(
      `  ${engine.padEnd(10)} seeded ${accounts} accounts × ${sessionsPerAccount} sessions in ` +
        `${((performance.now() - seedStarted) / 1000).toFixed(1)} s\n`,
    );
    const scaledServer = await startService(scaled.url);
    const target = on(scaledServer, profileRequests(sessions.flat()));
    await warmUp(scaledServer.url, target.requests);
    return { database: scaled, server: scaledServer, target };
  };
  const small = await startScaled(smallAccounts);
  const large = await startScaled(largeAccounts);
  const smallName = `${smallAccounts * sessionsPerAccount} sessions`;
  const largeName = `${largeAccounts * sessionsPerAccount} sessions`;
  const scale = await alternate(engine, [
    [smallName, small.target],
    [largeName, large.target],
  ]);
  record(engine, `session check, ${smallName}`, scale.median(smallName));
  record(engine, `session check, ${largeName}`, scale.median(largeName));
  for (const size of [small, large]) {
    await size.server.stop();
    await size.database.drop();
  }
  figures.push({
    engine,
    startMs,
    startsMs,
    checks,
    ...(postgresChecks && { postgresChecks }),
    login,
    loginCeiling,
    signUp: signUpRun,
    signUpCeiling,
    mixed,
    stormFigures,
    ...(nginx && { nginx }),
    ...(argon2 && { argon2 }),
    ...(peer && { peer }),
    scale,
  });
}
await hello.stop();

// ---------------------------------------------------------------------------------------------
// Report

/**
 * The rows of the report, in the README's order and words (its Performance table is this one,
 * with the figures of a run): each measure's target and what it means.
 */
const ROWS = {
  bcryptLogins: {
    measure: 'logins/s ÷ hash ceiling, bcrypt',
    target: '≥ 0.9',
    meaning:
      'logins (16 clients, one account) against raw bcrypt at cost 12 with as many hashes in flight as cores, no HTTP, measured just before and just after the logins',
  },
  bcryptSignUps: {
    measure: 'sign-ups/s ÷ hash ceiling, bcrypt',
    target: '≥ 0.9',
    meaning: 'the same for sign-ups, each with a new email',
  },
  argon2Logins: {
    measure: 'logins/s ÷ hash ceiling, argon2id',
    target: '≥ 0.85',
    meaning:
      'logins with `PASSWORD_HASH=argon2id` at 19456 KiB, 2 iterations, 1 lane, against raw argon2id at those settings',
  },
  stormChecks: {
    measure: 'session checks/s in a login storm ÷ idle',
    target: '≥ 0.5',
    meaning:
      '`GET /profile` (100 clients) while 16 clients log in without pause, against the same checks alone just before or after; the median of the rounds',
  },
  stormP99: {
    measure: 'p99 of session checks in a login storm',
    target: '≤ 25 ms',
    meaning: "the 99th percentile latency of those checks, the median of the rounds'",
  },
  checks: {
    measure: 'session checks/s ÷ hello/s',
    target: '≥ 0.7',
    meaning: '`GET /profile` with a valid cookie against the hello, 100 connections each',
  },
  forwardAuth: {
    measure: 'forward-auth checks/s ÷ hello/s',
    target: '≥ 0.6',
    meaning:
      '`GET /auth/forward` as Caddy asks it (cookie and `X-Forwarded-*`), the access rules included',
  },
  nginx: {
    measure: 'nginx: protected ÷ unprotected page/s',
    target: '≥ 0.4',
    meaning:
      "a static page behind nginx's `auth_request` to Bienvenue (the configuration above), against the same page unprotected",
  },
  scale: {
    measure: 'session checks/s, 1,000,000 ÷ 1,000 sessions',
    target: '≥ 0.9',
    meaning:
      '100,000 accounts × 10 sessions against 100 × 10; both check 1,000 sessions of 100 accounts',
  },
  postgres16: {
    measure: 'session checks/s ÷ hello/s, 16 connections',
    target: '≥ 0.5',
    meaning:
      'the session check with fewer clients, where fewer checks share each read of PostgreSQL',
  },
  rss: {
    measure: 'peak RSS during the mixed run',
    target: '≤ 200 MB',
    meaning:
      "the service's resident memory while 9 checks to 1 login run (argon2id when supported, else bcrypt)",
  },
  start: {
    measure: 'start to first answer',
    target: '≤ 0.5 s',
    meaning:
      'from spawning `node dist/bienvenue.js` on an empty database (migrations included) to its first answer; ' +
      `the median of ${STARTS} starts`,
  },
  peer: {
    measure: 'Better Auth get-session/s ÷ hello/s',
    target: '—',
    meaning: "the peer's session check, beside ours (the row _session checks/s ÷ hello/s_)",
  },
  peerCookieCache: {
    measure: 'Better Auth get-session/s with its cookie cache ÷ hello/s',
    target: '—',
    meaning:
      'the same with its 5-minute cookie cache, which answers from a signed cookie without reading the database',
  },
} as const;
type RowName = keyof typeof ROWS;

interface Target {
  engine: string;
  row: RowName;
  measure: string;
  value: string;
  target: string;
  /** Whether the target is met; null for a figure with no target (reported beside another). */
  met: boolean | null;
  /** What the figure is, or why there is none. */
  note?: string;
}
const targets: Target[] = [];
function ratio(a: number, b: number): number {
  return b === 0 ? 0 : a / b;
}
function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? NaN;
}
for (const f of figures) {
  const push = (row: RowName, value: string, met: boolean | null, note?: string) =>
    targets.push({
      engine: f.engine,
      row,
      measure: ROWS[row].measure,
      value,
      target: ROWS[row].target,
      met,
      ...(note !== undefined && { note }),
    });
  const atLeast = (row: RowName, value: number, floor: number, note?: string) =>
    push(row, value.toFixed(2), value >= floor, note);
  const skip = (row: RowName, note: string) => push(row, 'skipped', false, note);
  atLeast('bcryptLogins', ratio(f.login.requestsPerSecond, f.loginCeiling), 0.9);
  atLeast('bcryptSignUps', ratio(f.signUp.requestsPerSecond, f.signUpCeiling), 0.9);
  if (f.argon2 !== undefined) {
    if ('missing' in f.argon2) skip('argon2Logins', f.argon2.missing);
    else
      atLeast('argon2Logins', ratio(f.argon2.login.requestsPerSecond, f.argon2.loginCeiling), 0.85);
  }
  atLeast('stormChecks', f.stormFigures.ratio, 0.5);
  push('stormP99', `${f.stormFigures.p99Ms} ms`, f.stormFigures.p99Ms <= 25);
  atLeast('checks', f.checks.ratio('hello', 'session check'), 0.7);
  atLeast('forwardAuth', f.checks.ratio('hello', 'forward-auth check'), 0.6);
  if (f.engine === 'sqlite') {
    if (f.nginx === undefined) skip('nginx', `${PROXY_BINARIES.nginx} not found`);
    else atLeast('nginx', f.nginx.ratio('nginx, unprotected', 'nginx, protected'), 0.4);
  }
  const [smallName, largeName] = [...f.scale.runs.keys()] as [string, string];
  atLeast('scale', f.scale.ratio(smallName, largeName), 0.9, `${largeName} ÷ ${smallName}`);
  if (f.postgresChecks !== undefined) {
    const [helloName, checkName] = [...f.postgresChecks.runs.keys()] as [string, string];
    atLeast(
      'postgres16',
      f.postgresChecks.ratio(helloName, checkName),
      0.5,
      `${postgresConnections} connections`,
    );
  }
  const argon2Mixed = f.argon2 !== undefined && !('missing' in f.argon2) ? f.argon2.mixed : null;
  const rss = (argon2Mixed ?? f.mixed).peakRssMb ?? NaN;
  push('rss', `${rss} MB`, rss <= 200, argon2Mixed === null ? 'bcrypt' : 'argon2id');
  push('start', `${f.startMs} ms`, f.startMs <= 500);
  if (f.peer !== undefined) {
    const peerHello = perSecond(f.peer.turns.median('hello'));
    push('peer', f.peer.turns.ratio('hello', 'Better Auth get-session').toFixed(3), null);
    push(
      'peerCookieCache',
      ratio(f.peer.cookieCache.requestsPerSecond, peerHello).toFixed(3),
      null,
    );
  }
}

process.stdout.write(
  '\nScenario                                            engine       req/s    p50    p99  errors  peak RSS\n',
);
for (const run of runs) {
  process.stdout.write(
    `${run.scenario.padEnd(51)} ${run.engine.padEnd(9)} ${String(run.requestsPerSecond).padStart(8)} ` +
      `${String(run.p50Ms).padStart(6)} ${String(run.p99Ms).padStart(6)} ${String(run.errors).padStart(7)} ` +
      `${run.peakRssMb === null ? '     n/a' : `${String(run.peakRssMb).padStart(5)} MB`}\n`,
  );
}
process.stdout.write(
  `Hash ceilings, ${cores} in flight: bcrypt ${settings.bcryptRounds} ${bcryptCeiling.toFixed(2)}/s, ` +
    `argon2id 19456/2/1 ${argon2Ceiling.toFixed(2)}/s\n\n`,
);
process.stdout.write(
  'Target                                                     engine      value   target  met\n',
);
for (const t of targets) {
  const met = t.met === null ? '—' : t.met ? 'yes' : 'NO';
  process.stdout.write(
    `${t.measure.padEnd(58)} ${t.engine.padEnd(9)} ${t.value.padStart(7)} ${t.target.padStart(8)}  ` +
      `${met}${t.note === undefined ? '' : ` (${t.note})`}\n`,
  );
}

// The README's table, with this run's figures.
const cell = (row: RowName, engine: Engine) => {
  const t = targets.find((found) => found.row === row && found.engine === engine);
  if (t === undefined) return '—';
  if (t.met === null) return t.value;
  return `${t.value} (${t.met ? 'met' : 'missed'}${t.note === undefined ? '' : `, ${t.note}`})`;
};
process.stdout.write('\nREADME table:\n\n| row | target | SQLite | PostgreSQL | what it means |\n');
process.stdout.write('| --- | --- | --- | --- | --- |\n');
for (const [row, { measure, target, meaning }] of Object.entries(ROWS) as [
  RowName,
  (typeof ROWS)[RowName],
][]) {
  process.stdout.write(
    `| ${measure} | ${target} | ${cell(row, 'sqlite')} | ${cell(row, 'postgres')} | ${meaning} |\n`,
  );
}
writeFileSync(
  args.out,
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      machine: { cores, node: process.version },
      settings: {
        bcryptRounds: settings.bcryptRounds,
        hashConcurrency: settings.hashConcurrency,
        argon2: ARGON2,
        connections,
        loginConnections,
        postgresConnections,
        rounds,
        durationSeconds: duration,
        smallSessions,
        largeAccounts,
        sessionsPerAccount,
      },
      hashCeilings: {
        inFlight: cores,
        bcrypt: bcryptCeiling,
        argon2id: argon2Ceiling,
        besideRuns: ceilingsBeside,
      },
      runs,
      alternations,
      stormRounds,
      startMs: Object.fromEntries(figures.map((f) => [f.engine, f.startMs])),
      startsMs: Object.fromEntries(figures.map((f) => [f.engine, f.startsMs])),
      targets,
    },
    null,
    2,
  )}\n`,
);
process.stdout.write(`\nwritten to ${args.out}\n`);
