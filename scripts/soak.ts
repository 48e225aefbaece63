/**
 * `npm run soak -- --minutes N`: two real service processes on one PostgreSQL database, under
 * mixed traffic for N minutes, one of them killed with `kill -9` and started again every minute.
 *
 * The traffic: sign-ups (each with a new address), logins, session checks (GET /profile),
 * forward-auth checks (GET /auth/request, as nginx asks) and password resets (token requested,
 * then used; RESET_TOKEN_IN_RESPONSE=true gives the token), from several clients at once. Each
 * request goes to one of the instances that is up, as a load balancer would send it. Instance A is
 * the one killed, once a minute, half a minute into each minute; instance B lives the whole run,
 * so that its memory is watched over all of it.
 *
 * At the end it reports, and exits 1 if one fails:
 * - acknowledged sign-ups lost: every sign-up answered 200 must be in the database (0 lost);
 *   and every acknowledged password (sign-up or reset) must still log in;
 * - 5xx answers (or failed connections) outside the kill windows: 0. A kill window runs from the
 *   kill until the instance answers /readyz again, and covers the requests in flight to it;
 * - RSS growth of each instance's life from a minute in, under 10% (lives too short to judge are
 *   reported, not judged);
 * - event-loop delay p99 (from each instance's /metrics, after warm-up), reported only.
 *
 * Usage: npm run soak -- [--minutes N] [--clients N] [--database-url postgres://…]
 * The database URL defaults to TEST_POSTGRES_URL or the local server's `test` database; the soak
 * creates a database of its own there and drops it at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';

const MAIN = resolve(import.meta.dirname, '../bienvenue.js');
const KILL_EVERY_MS = 60_000;
const FIRST_KILL_MS = 30_000;
const WARM_UP_MS = 20_000;
/**
 * Memory is compared from a minute into a life (the heap grows to its working size first), and
 * only over lives that go on at least two minutes after that: over less, the garbage collector's
 * rhythm alone moves the resident size by more than the limit.
 */
const RSS_WARM_UP_MS = 60_000;
const JUDGED_AFTER_WARM_UP_MS = 120_000;
/** Samples whose median stands for each end of a judged stretch. */
const RSS_END_SAMPLES = 3;
const MAX_RSS_GROWTH = 0.1;
const SAMPLE_EVERY_MS = 5_000;

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    clients: { type: 'string', default: '4' },
    'database-url': { type: 'string' },
  },
});
const minutes = Number(args.minutes);
const clients = Number(args.clients);
if (!(minutes > 0) || !Number.isInteger(clients) || clients < 1) {
  throw new Error('usage: npm run soak -- --minutes N [--clients N] [--database-url URL]');
}
const serverUrl =
  args['database-url'] ??
  process.env.TEST_POSTGRES_URL ??
  'postgres://postgres@127.0.0.1:5432/test';

interface Life {
  readonly startedAt: number;
  /** Resident sizes sampled after {@link RSS_WARM_UP_MS}, in order. */
  readonly rss: number[];
  endedAt?: number;
}

interface Instance {
  readonly name: string;
  readonly port: number;
  readonly metricsPort: number;
  child?: ChildProcess;
  up: boolean;
  /** Kill windows: from the kill until it answered /readyz again. */
  readonly windows: { from: number; to: number }[];
  readonly lives: Life[];
  readonly eventLoopP99: number[];
}

const log = (line: string) => process.stdout.write(`[soak ${elapsed()}] ${line}\n`);
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s`;
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function onServer(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

const databaseName = `bienvenue_soak_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
const databaseUrl = (() => {
  const url = new URL(serverUrl);
  url.pathname = `/${databaseName}`;
  return url.toString();
})();
const env = {
  PATH: process.env.PATH ?? '',
  HOST: '127.0.0.1',
  DATABASE_URL: databaseUrl,
  BCRYPT_ROUNDS: '4',
  RATE_LIMIT: 'off',
  RESET_TOKEN_IN_RESPONSE: 'true',
  LOG_LEVEL: 'warn',
  PUBLIC_URL: 'http://auth.soak.test',
  COOKIE_DOMAIN: 'soak.test',
  SECRET_KEY: randomBytes(32).toString('base64'),
};

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => done(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function start(instance: Instance): Promise<void> {
  const child = spawn(process.execPath, [MAIN], {
    env: { ...env, PORT: String(instance.port), METRICS_PORT: String(instance.metricsPort) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  instance.child = child;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${instance.name} exited:\n${output}`);
    const ready = await fetch(`http://127.0.0.1:${instance.port}/readyz`).catch(() => undefined);
    if (ready?.status === 200) break;
    if (Date.now() > deadline) throw new Error(`${instance.name} did not start:\n${output}`);
    await sleep(100);
  }
  instance.lives.push({ startedAt: Date.now(), rss: [] });
  instance.up = true;
}

async function sample(instance: Instance): Promise<void> {
  if (!instance.up) return;
  const life = instance.lives.at(-1);
  const text = await fetch(`http://127.0.0.1:${instance.metricsPort}/metrics`)
    .then((response) => response.text())
    .catch(() => undefined);
  if (text === undefined || life === undefined) return;
  const figure = (name: string) => {
    const match = new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text);
    return match?.[1] === undefined ? undefined : Number(match[1]);
  };
  const rss = figure('bienvenue_process_resident_memory_bytes');
  const p99 = figure('bienvenue_nodejs_eventloop_lag_p99_seconds');
  // Start-up (loading, migrations, first compilations) is not what a soak measures.
  if (Date.now() - life.startedAt < WARM_UP_MS) return;
  if (p99 !== undefined) instance.eventLoopP99.push(p99);
  if (rss === undefined || Date.now() - life.startedAt < RSS_WARM_UP_MS) return;
  life.rss.push(rss);
}

/** The median of `values` (0 when empty). */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

// ---- traffic -------------------------------------------------------------------------------

interface Account {
  readonly email: string;
  password: string;
  /** False once a change of its password went unanswered (the instance died): skip it. */
  known: boolean;
}

const acknowledged: Account[] = [];
const failures: string[] = [];
const counts = { requests: 0, excused: 0, byStatus: new Map<string, number>() };
const run = { stopping: false };

function inKillWindow(instance: Instance, from: number, to: number): boolean {
  return instance.windows.some((window) => from <= window.to && to >= window.from) || !instance.up;
}

async function call(
  instances: Instance[],
  path: string,
  init: { method?: string; fields?: Record<string, string>; headers?: Record<string, string> },
): Promise<{ status: number; body: string; headers: Headers } | undefined> {
  const up = instances.filter((instance) => instance.up);
  const instance = up[Math.floor(Math.random() * up.length)] ?? instances[1];
  if (instance === undefined) return undefined;
  const sent = Date.now();
  counts.requests += 1;
  try {
    const response = await fetch(`http://127.0.0.1:${instance.port}${path}`, {
      method: init.method ?? 'GET',
      headers: init.headers,
      redirect: 'manual',
      ...(init.fields !== undefined && { body: new URLSearchParams(init.fields) }),
    });
    const body = await response.text();
    const key = `${init.method ?? 'GET'} ${path.split('?')[0] ?? path} ${response.status}`;
    counts.byStatus.set(key, (counts.byStatus.get(key) ?? 0) + 1);
    if (response.status >= 500) {
      if (inKillWindow(instance, sent, Date.now())) {
        counts.excused += 1;
        return undefined;
      }
      failures.push(`${instance.name}: ${key} outside a kill window: ${body.slice(0, 200)}`);
    }
    return { status: response.status, body, headers: response.headers };
  } catch (error) {
    if (inKillWindow(instance, sent, Date.now())) {
      counts.excused += 1;
      return undefined;
    }
    failures.push(`${instance.name}: ${path} failed outside a kill window: ${String(error)}`);
    return undefined;
  }
}

function sessionCookieOf(headers: Headers): string | undefined {
  const set = headers.getSetCookie().find((cookie) => cookie.startsWith('session_id='));
  return set?.split(';')[0];
}

async function client(instances: Instance[], id: number): Promise<void> {
  const own: Account[] = [];
  let sequence = 0;
  while (!run.stopping) {
    const roll = Math.random();
    const known = own.filter((candidate) => candidate.known);
    const account = known[Math.floor(Math.random() * known.length)];
    if (account === undefined || roll < 0.2) {
      sequence += 1;
      const email = `soak-${id}-${sequence}@example.com`;
      const password = `soak password ${sequence}`;
      const answer = await call(instances, '/users', {
        method: 'POST',
        fields: { email, password },
      });
      if (answer?.status === 200) {
        const created = { email, password, known: true };
        own.push(created);
        acknowledged.push(created);
      }
      continue;
    }
    if (roll < 0.3) {
      const token = await call(instances, '/reset_password', {
        method: 'POST',
        fields: { email: account.email },
      });
      if (token?.status !== 200) continue;
      const { reset_token: resetToken } = JSON.parse(token.body) as { reset_token: string };
      const password = `soak reset ${randomUUID().slice(0, 8)}`;
      const reset = await call(instances, '/reset_password', {
        method: 'PUT',
        fields: { email: account.email, reset_token: resetToken, new_password: password },
      });
      if (reset?.status === 200) account.password = password;
      // No answer: the new password may or may not be in; this account is not judged further.
      else if (reset === undefined || reset.status >= 500) account.known = false;
      continue;
    }
    const login = await call(instances, '/sessions', {
      method: 'POST',
      fields: { email: account.email, password: account.password },
    });
    if (login === undefined || login.status >= 500) continue;
    if (login.status !== 200) {
      failures.push(`the acknowledged password of ${account.email} was refused: ${login.status}`);
      continue;
    }
    const cookie = sessionCookieOf(login.headers) ?? '';
    // A few checks per login, as a browser makes: the profile, and forward auth for an app.
    for (let check = 0; check < 4; check += 1) {
      if (check % 2 === 0) {
        await call(instances, '/profile', { headers: { cookie } });
      } else {
        await call(instances, '/auth/request', {
          headers: {
            cookie,
            'x-original-url': 'http://app.soak.test/page',
            'x-original-method': 'GET',
          },
        });
      }
    }
  }
}

// ---- the run -------------------------------------------------------------------------------

async function main(): Promise<number> {
  await onServer(`CREATE DATABASE ${databaseName}`);
  const instances: Instance[] = [];
  for (const name of ['A', 'B']) {
    instances.push({
      name,
      port: await freePort(),
      metricsPort: await freePort(),
      up: false,
      windows: [],
      lives: [],
      eventLoopP99: [],
    });
  }
  const [a, b] = instances as [Instance, Instance];
  try {
    // B first: it migrates the empty database, then A starts on it.
    await start(b);
    await start(a);
    log(`instances up on ports ${a.port} (A, killed every minute) and ${b.port} (B)`);
    const end = Date.now() + minutes * 60_000;
    const traffic = Array.from({ length: clients }, (_, id) => client(instances, id));
    const sampler = setInterval(() => {
      for (const instance of instances) void sample(instance);
    }, SAMPLE_EVERY_MS);
    let nextKill = Date.now() + FIRST_KILL_MS;
    while (Date.now() < end) {
      await sleep(Math.max(0, Math.min(nextKill, end) - Date.now()));
      if (Date.now() >= end) break;
      const window = { from: Date.now(), to: Infinity };
      a.windows.push(window);
      a.up = false;
      const life = a.lives.at(-1);
      if (life !== undefined) life.endedAt = Date.now();
      a.child?.kill('SIGKILL');
      await new Promise((done) => a.child?.once('exit', done));
      log(`killed A with kill -9 (${acknowledged.length} sign-ups acknowledged so far)`);
      await start(a);
      window.to = Date.now();
      log(`A is back after ${((window.to - window.from) / 1000).toFixed(1)} s`);
      nextKill += KILL_EVERY_MS;
    }
    run.stopping = true;
    await Promise.all(traffic);
    clearInterval(sampler);
    for (const instance of instances) await sample(instance);
    for (const instance of instances) {
      const life = instance.lives.at(-1);
      if (life !== undefined) life.endedAt = Date.now();
    }
    return await report(instances);
  } finally {
    run.stopping = true;
    for (const instance of instances) instance.child?.kill('SIGKILL');
    await sleep(200);
    await onServer(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
  }
}

async function report(instances: Instance[]): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  let stored: Set<string>;
  try {
    const { rows } = await client.query<{ email: string }>('SELECT email FROM users');
    stored = new Set(rows.map((row) => row.email));
  } finally {
    await client.end();
  }
  const lost = acknowledged.filter((account) => !stored.has(account.email));
  const lines: string[] = [];
  const outcome = { failed: false };
  const verdict = (ok: boolean) => {
    if (!ok) outcome.failed = true;
    return ok ? 'ok' : 'FAIL';
  };
  lines.push(`soak: ${minutes} min, ${clients} clients, ${counts.requests} requests`);
  lines.push(
    `acknowledged sign-ups lost: ${lost.length} of ${acknowledged.length} [${verdict(lost.length === 0)}]`,
  );
  lines.push(
    `5xx answers or failed requests outside kill windows: ${failures.length} (${counts.excused} excused inside kill windows) [${verdict(failures.length === 0)}]`,
  );
  for (const failure of failures.slice(0, 10)) lines.push(`  ${failure}`);
  for (const instance of instances) {
    instance.lives.forEach((life, index) => {
      const judged =
        life.rss.length >= 2 * RSS_END_SAMPLES &&
        (life.endedAt ?? Date.now()) - life.startedAt - RSS_WARM_UP_MS >= JUDGED_AFTER_WARM_UP_MS;
      const first = median(life.rss.slice(0, RSS_END_SAMPLES));
      const last = median(life.rss.slice(-RSS_END_SAMPLES));
      const growth = first > 0 ? (last - first) / first : 0;
      const seconds = (((life.endedAt ?? Date.now()) - life.startedAt) / 1000).toFixed(0);
      const figures =
        life.rss.length === 0
          ? `RSS not sampled (no sample from ${RSS_WARM_UP_MS / 1000} s on) over a ${seconds} s life`
          : `RSS ${mib(first)} → ${mib(last)} MiB (medians of the first and last ${RSS_END_SAMPLES} samples from ${RSS_WARM_UP_MS / 1000} s on) (${(growth * 100).toFixed(1)}%) over a ${seconds} s life`;
      lines.push(
        `instance ${instance.name}, life ${index + 1}: ${figures} ${judged ? `[${verdict(growth < MAX_RSS_GROWTH)}]` : '[too short to judge]'}`,
      );
    });
    const p99 = [...instance.eventLoopP99].sort((x, y) => x - y);
    lines.push(
      `instance ${instance.name}: event-loop delay p99 per ${SAMPLE_EVERY_MS / 1000} s sample: median ${(median(p99) * 1000).toFixed(1)} ms, worst ${((p99.at(-1) ?? 0) * 1000).toFixed(1)} ms`,
    );
  }
  lines.push(
    `answers: ${[...counts.byStatus]
      .sort()
      .map(([key, count]) => `${key} ×${count}`)
      .join(', ')}`,
  );
  lines.push(outcome.failed ? 'soak FAILED' : 'soak passed');
  process.stdout.write(`\n${lines.join('\n')}\n`);
  return outcome.failed ? 1 : 0;
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1);
}

process.exitCode = await main();
