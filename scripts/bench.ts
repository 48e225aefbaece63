/**
 * `npm run bench`: the service's performance, measured side by side with a bare Fastify server
 * and with the raw cost of bcrypt, in one run, on this machine.
 *
 * For each engine (SQLite in a temporary folder; PostgreSQL too when reachable) it starts the real
 * service (`node dist/src/main.js`, RATE_LIMIT=off) and drives it with autocannon: session checks
 * (GET /profile with a valid cookie), forward-auth checks (GET /auth/forward, as Caddy asks), logins, sign-ups (unique emails), a mix (9 session checks to
 * 1 login), and session checks during a saturating login storm; then the session check again with
 * 1,000 and with 1,000,000 users in the database, and with 10,000 accounts all signed in, holding
 * one session each or five each (every session of 100 of them checked). It also times the start to
 * the first answered request, samples each server's resident memory, and measures the bare Fastify
 * "hello" and the bcrypt ceiling (hashes per second at the configured cost, with the service's own
 * parallelism). It prints two tables and writes everything as JSON.
 *
 * Three ratios compare runs that can be made in alternation: session checks against the hello,
 * session checks with the large against the small user table, and session checks with several
 * sessions per account against one. Each pair takes turns `--rounds` times (1 with --quick), the
 * pair's order swapping every round, and the round whose ratio is the median is kept: on a shared
 * machine the speed of everything drifts over minutes, and taking turns puts the drift on both
 * sides of the ratio. Each round's rates are printed and kept in the JSON.
 *
 * Request-bound scenarios (hello, session checks) run with `--connections` clients, each cycling
 * through that many signed-in users; those bound by bcrypt (logins, sign-ups, the mix, the storm's
 * logins) with `--login-connections`, since more clients only lengthen the queue for the hash.
 *
 * Usage: npm run bench -- [--duration S] [--connections N] [--login-connections N] [--rounds N]
 *                         [--small-users N] [--large-users N] [--session-accounts N]
 *                         [--sessions-per-account N] [--engines sqlite,postgres]
 *                         [--out FILE] [--quick]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { sql } from 'kysely';
import pg from 'pg';
import { bcryptHasher, limitConcurrency } from '../src/auth/passwords.js';
import { digestToken, generateSessionPublicId, generateUuid } from '../src/auth/tokens.js';
import { loadConfig } from '../src/config.js';
import { openDatabase, type Engine } from '../src/db/connection.js';
import { migrateToLatest } from '../src/db/migrations.js';
import { freePort } from '../test/support/ports.js';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '100' },
    'login-connections': { type: 'string', default: '16' },
    rounds: { type: 'string', default: '3' },
    'small-users': { type: 'string', default: '1000' },
    'large-users': { type: 'string', default: '1000000' },
    'session-accounts': { type: 'string', default: '10000' },
    'sessions-per-account': { type: 'string', default: '5' },
    engines: { type: 'string' },
    out: { type: 'string', default: 'bench-results.json' },
    quick: { type: 'boolean', default: false },
  },
});
const quick = args.quick;
const duration = quick ? 2 : Number(args.duration);
const connections = Number(args.connections);
const loginConnections = Number(args['login-connections']);
const rounds = quick ? 1 : Number(args.rounds);
const smallUsers = Number(args['small-users']);
const largeUsers = quick ? 10_000 : Number(args['large-users']);
const sessionAccounts = Number(args['session-accounts']);
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
  sessionsPerAccount < 2 ||
  sessionsPerAccount > settings.sessionsPerUser
) {
  // More than the service's cap is a state no login could reach.
  throw new Error(
    `--sessions-per-account ${args['sessions-per-account']}: expected 2 to ` +
      `SESSIONS_PER_USER (${settings.sessionsPerUser})`,
  );
}
if (!Number.isInteger(sessionAccounts) || sessionAccounts < connections) {
  throw new Error(
    `--session-accounts ${args['session-accounts']}: expected at least ${connections}`,
  );
}
const PASSWORD = 'bench password 1';

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
  child: ChildProcess;
  startMs: number;
  stop(): Promise<void>;
}

/** Every server process started and not yet stopped: ended with the benchmark, even if it fails. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

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
  return {
    url,
    child,
    startMs,
    async stop() {
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((done) => child.once('exit', done));
      running.delete(child);
    },
  };
}

/** The real service on the database at `url`. */
function startService(url: string): Promise<Server> {
  return startProcess('dist/src/main.js', {
    RATE_LIMIT: 'off',
    LOG_LEVEL: 'warn',
    SMTP_URL: '',
    DATABASE_URL: url,
  });
}

/** Samples the resident memory of `pid` while `work` runs; the peak, in MB. */
async function withPeakRss<T>(
  pid: number | undefined,
  work: Promise<T>,
): Promise<[T, number | null]> {
  let peak = 0;
  const sample = () => {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
      if (kb > peak) peak = kb;
    } catch {
      // not Linux, or gone
    }
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

function load(url: string, requests: Request[], clients: number) {
  return autocannon({ url, connections: clients, duration, requests });
}

type Measured = [autocannon.Result, number | null];
interface LoadTarget {
  server: Server;
  requests: Request[];
}

/** Each round's requests per second of an alternated pair, for the JSON. */
const alternations: { engine: string; pair: [string, string]; rates: [number, number][] }[] = [];

/**
 * Loads `base` and `other` in turn, `rounds` times, the order swapping every round, and returns
 * both runs of the round where other ÷ base is the median (see the header).
 */
async function alternate(
  engine: string,
  pair: [string, string],
  base: LoadTarget,
  other: LoadTarget,
): Promise<[Measured, Measured]> {
  const measure = ({ server, requests }: LoadTarget) =>
    withPeakRss(server.child.pid, load(server.url, requests, connections));
  const perSecond = ([result]: Measured) => result.requests.total / duration;
  const done: [Measured, Measured][] = [];
  for (let round = 1; round <= rounds; round += 1) {
    let measured: [Measured, Measured];
    if (round % 2 === 1) {
      const first = await measure(base);
      measured = [first, await measure(other)];
    } else {
      const second = await measure(other);
      measured = [await measure(base), second];
    }
    done.push(measured);
    process.stdout.write(
      `  round ${round} of ${rounds}: ${pair[0]} ${Math.round(perSecond(measured[0]))}/s, ` +
        `${pair[1]} ${Math.round(perSecond(measured[1]))}/s\n`,
    );
  }
  alternations.push({
    engine,
    pair,
    rates: done.map(([a, b]) => [Math.round(perSecond(a)), Math.round(perSecond(b))]),
  });
  const byRatio = [...done].sort(
    (x, y) => perSecond(x[1]) / perSecond(x[0]) - perSecond(y[1]) / perSecond(y[0]),
  );
  return byRatio[(byRatio.length - 1) / 2] as [Measured, Measured];
}

/** A first, unrecorded run, so that the JIT has compiled the hot paths before measuring. */
async function warmUp(url: string, requests: Request[]): Promise<void> {
  await autocannon({ url, connections, duration: Math.min(3, duration), requests });
}

function record(engine: string, scenario: string, result: autocannon.Result, rss: number | null) {
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
    `  ${engine.padEnd(10)} ${scenario.padEnd(34)} ${String(run.requestsPerSecond).padStart(7)}/s` +
      `  p50 ${run.p50Ms} ms  p99 ${run.p99Ms} ms  errors ${run.errors}\n`,
  );
  return run;
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const FORM_HEADERS = { 'content-type': 'application/x-www-form-urlencoded' };

/** A session check (`GET /profile`) for each of `sessionIds`. */
function profileRequests(sessionIds: string[]): Request[] {
  return sessionIds.map((sessionId) => ({
    method: 'GET',
    path: '/profile',
    headers: { cookie: `session_id=${sessionId}` },
  }));
}

/**
 * A forward-auth check (`GET /auth/forward`, as Caddy asks it) for each of `sessionIds`: the
 * session check plus the access rules, with the original request in `X-Forwarded-*`.
 */
function forwardAuthRequests(sessionIds: string[]): Request[] {
  return sessionIds.map((sessionId) => ({
    method: 'GET',
    path: '/auth/forward',
    headers: {
      cookie: `session_id=${sessionId}`,
      'x-forwarded-method': 'GET',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'app.example.com',
      'x-forwarded-uri': '/dashboard?tab=1',
    },
  }));
}

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

/** Rows a seeding statement writes at most. */
const SEED_BATCH = 10_000;

/**
 * Migrates the database at `url` if needed, fills its users table with `users` accounts sharing
 * one precomputed hash, in one statement, then opens `sessionsEach` sessions for each of
 * `signedIn` of them, spread over the table, and returns each signed-in account's session tokens
 * (in account order). Sessions are written as rows, the way SessionManager.start writes them but
 * with no login (so no hash), all in one transaction, so that 50,000 of them take a second or so:
 * on PostgreSQL in statements of {@link SEED_BATCH} rows, through a connection of its own (the
 * service's query time-out would cut the big inserts); on SQLite by one prepared statement run
 * for each row, as many rows in one statement would exceed its limit on parameters.
 */
async function seed(
  url: string,
  { users, signedIn, sessionsEach }: { users: number; signedIn: number; sessionsEach: number },
  hash: string,
): Promise<string[][]> {
  if (signedIn > users) throw new Error(`cannot sign in ${signedIn} of ${users} users`);
  const database = openDatabase(url);
  try {
    await migrateToLatest(database);
    const now = Date.now();
    const expiresAt = now + settings.sessionTtl * 1000;
    const tokens: string[][] = [];
    // One row per session: public id, token digest and the account's email key.
    const rows: [string, string, string][] = [];
    for (const index of spread(users, signedIn)) {
      const ofAccount = Array.from({ length: sessionsEach }, () => generateUuid());
      tokens.push(ofAccount);
      for (const token of ofAccount) {
        rows.push([generateSessionPublicId(), digestToken(token), `seed${index + 1}@example.com`]);
      }
    }
    const batches = Array.from({ length: Math.ceil(rows.length / SEED_BATCH) }, (_, i) =>
      rows.slice(i * SEED_BATCH, (i + 1) * SEED_BATCH),
    );
    let written = 0;
    if (database.engine === 'postgres') {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(
          `INSERT INTO users (email, email_key, hashed_password, created_at, updated_at)
           SELECT 'seed' || n || '@example.com', 'seed' || n || '@example.com', $1, $2, $2
           FROM generate_series(1, $3::int) AS n`,
          [hash, now, users],
        );
        await client.query('BEGIN');
        for (const batch of batches) {
          const result = await client.query(
            `INSERT INTO sessions (id, user_id, token_digest, created_at, last_seen_at, expires_at,
                                   ip, user_agent, auth_method)
             SELECT s.id, u.id, s.digest, $4, $4, $5, NULL, NULL, 'password'
             FROM unnest($1::text[], $2::text[], $3::text[]) AS s(id, digest, email)
             JOIN users u ON u.email_key = s.email`,
            [
              batch.map((r) => r[0]),
              batch.map((r) => r[1]),
              batch.map((r) => r[2]),
              now,
              expiresAt,
            ],
          );
          written += result.rowCount ?? 0;
        }
        await client.query('COMMIT');
      } finally {
        await client.end();
      }
    } else {
      await sql`INSERT INTO users (email, email_key, hashed_password, created_at, updated_at)
        WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ${users})
        SELECT 'seed' || n || '@example.com', 'seed' || n || '@example.com', ${hash}, ${now}, ${now}
        FROM seq`.execute(database.kysely);
      const sqlite = database.sqlite;
      if (sqlite === undefined) throw new Error('SQLite database without its connection');
      const insert = sqlite.prepare(
        `INSERT INTO sessions (id, user_id, token_digest, created_at, last_seen_at, expires_at,
                               ip, user_agent, auth_method)
         SELECT ?, id, ?, ?, ?, ?, NULL, NULL, 'password' FROM users WHERE email_key = ?`,
      );
      sqlite.transaction(() => {
        for (const [id, digest, email] of rows) {
          written += insert.run(id, digest, now, now, expiresAt, email).changes;
        }
      })();
    }
    if (written !== rows.length) throw new Error(`seeded ${written} of ${rows.length} sessions`);
    return tokens;
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
process.stdout.write(
  `Bienvenue benchmark: ${availableParallelism()} cores, bcrypt cost ${settings.bcryptRounds}, ` +
    `hash concurrency ${settings.hashConcurrency}, ${connections} connections ` +
    `(${loginConnections} for logins and sign-ups), ${duration} s a run\n`,
);

// The baseline, a bare Fastify hello, runs until the end: each engine's session checks alternate
// with it.
const hello = await startProcess('dist/scripts/bench-hello.js', {});
const helloRequests: Request[] = [{ method: 'GET', path: '/' }];
await warmUp(hello.url, helloRequests);

// The bcrypt ceiling, with the service's own parallelism.
const hasher = limitConcurrency(bcryptHasher(settings.bcryptRounds), settings.hashConcurrency);
let hashes = 0;
const hashDeadline = performance.now() + duration * 1000;
const hashStarted = performance.now();
await Promise.all(
  Array.from({ length: settings.hashConcurrency * 2 }, async () => {
    while (performance.now() < hashDeadline) {
      await hasher.hash(PASSWORD);
      hashes += 1;
    }
  }),
);
const hashesPerSecond = hashes / ((performance.now() - hashStarted) / 1000);
process.stdout.write(
  `  ${'bcrypt'.padEnd(10)} ${'hash ceiling'.padEnd(34)} ${hashesPerSecond.toFixed(2)}/s\n`,
);
const hashOfPassword = await hasher.hash(PASSWORD);

interface EngineFigures {
  engine: Engine;
  startMs: number;
  hello: Run;
  sessionCheck: Run;
  forwardAuth: Run;
  login: Run;
  signUp: Run;
  mixed: Run;
  stormSessionCheck: Run;
  stormLogin: Run;
  scaleSmall: Run;
  scaleLarge: Run;
  sessionsSingle: Run;
  sessionsSeveral: Run;
}
const figures: EngineFigures[] = [];

for (const engine of engines) {
  const database = await createDatabase(engine, folder);
  const server = await startService(database.url);
  const pid = server.child.pid;

  // As many signed-in users as connections (seeded, as signing each in would take a hash), each
  // connection cycling through all their sessions; and one account for the logins.
  const sessionIds = (
    await seed(
      database.url,
      { users: connections, signedIn: connections, sessionsEach: 1 },
      hashOfPassword,
    )
  ).flat();
  const profiles = profileRequests(sessionIds);
  await signUp(server.url, 'storm@example.com');
  const stormLogin: Request = {
    method: 'POST',
    path: '/sessions',
    headers: FORM_HEADERS,
    body: form({ email: 'storm@example.com', password: PASSWORD }),
  };
  let next = 0;
  const uniqueSignUp: Request = {
    method: 'POST',
    path: '/users',
    headers: FORM_HEADERS,
    setupRequest: (request) => ({
      ...request,
      body: form({ email: `new${process.pid}-${(next += 1)}@example.com`, password: PASSWORD }),
    }),
  };

  // Requests still queued for bcrypt when a run ends would slow the next run down: wait them out.
  const drainHashing = () =>
    new Promise((done) => setTimeout(done, (loginConnections / hashesPerSecond + 1) * 1000));
  const measure = async (scenario: string, requests: Request[], clients: number) => {
    const [result, rss] = await withPeakRss(pid, load(server.url, requests, clients));
    await drainHashing();
    return record(engine, scenario, result, rss);
  };
  await warmUp(server.url, profiles);
  const [helloMeasured, checkMeasured] = await alternate(
    engine,
    ['hello', 'session check'],
    { server: hello, requests: helloRequests },
    { server, requests: profiles },
  );
  const helloRun = record(engine, 'bare Fastify hello', ...helloMeasured);
  const sessionCheck = record(engine, 'session check', ...checkMeasured);
  const forwardAuth = await measure(
    'forward-auth check',
    forwardAuthRequests(sessionIds),
    connections,
  );
  const loginRun = await measure('login', [stormLogin], loginConnections);
  const signUpRun = await measure('sign-up', [uniqueSignUp], loginConnections);
  const mixed = await measure(
    'mixed: 90% checks, 10% logins',
    [...profiles.slice(0, 9), stormLogin],
    loginConnections,
  );
  const [[stormChecks, stormLogins], stormRss] = await withPeakRss(
    pid,
    Promise.all([
      load(server.url, profiles, connections),
      load(server.url, [stormLogin], loginConnections),
    ]),
  );
  await drainHashing();
  const stormSessionCheck = record(
    engine,
    'session check during login storm',
    stormChecks,
    stormRss,
  );
  const stormLoginRun = record(engine, 'login storm (alongside)', stormLogins, stormRss);
  await server.stop();
  await database.drop();

  // The two sizes side by side: a service on each, their session checks in alternation.
  // `checked` of the signed-in accounts, spread over them, have all their sessions checked.
  const startScaled = async (
    shape: { users: number; signedIn: number; sessionsEach: number },
    checked = shape.signedIn,
  ) => {
    const scaled = await createDatabase(engine, folder);
    const seedStarted = performance.now();
    const sessions = await seed(scaled.url, shape, hashOfPassword);
    process.stdout.write(
      `  ${engine.padEnd(10)} seeded ${shape.users} users, ${shape.signedIn * shape.sessionsEach} ` +
        `sessions in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s\n`,
    );
    const scaledServer = await startService(scaled.url);
    const cookies = spread(sessions.length, checked).flatMap((index) => sessions[index] ?? []);
    const target = { server: scaledServer, requests: profileRequests(cookies) };
    await warmUp(scaledServer.url, target.requests);
    return { database: scaled, server: scaledServer, target };
  };
  const small = await startScaled({ users: smallUsers, signedIn: connections, sessionsEach: 1 });
  const large = await startScaled({ users: largeUsers, signedIn: connections, sessionsEach: 1 });
  const [smallMeasured, largeMeasured] = await alternate(
    engine,
    [`${smallUsers} users`, `${largeUsers} users`],
    small.target,
    large.target,
  );
  const scaleSmall = record(engine, `session check, ${smallUsers} users`, ...smallMeasured);
  const scaleLarge = record(engine, `session check, ${largeUsers} users`, ...largeMeasured);
  for (const size of [small, large]) {
    await size.server.stop();
    await size.database.drop();
  }

  // Several sessions per account, side by side with one: `sessionAccounts` accounts all signed
  // in, one session each or `sessionsPerAccount` each; every session of `connections` of them
  // checked.
  const single = await startScaled(
    { users: sessionAccounts, signedIn: sessionAccounts, sessionsEach: 1 },
    connections,
  );
  const several = await startScaled(
    { users: sessionAccounts, signedIn: sessionAccounts, sessionsEach: sessionsPerAccount },
    connections,
  );
  const [singleMeasured, severalMeasured] = await alternate(
    engine,
    ['1 session per account', `${sessionsPerAccount} sessions per account`],
    single.target,
    several.target,
  );
  const sessionsSingle = record(
    engine,
    `session check, ${sessionAccounts} users, 1 session each`,
    ...singleMeasured,
  );
  const sessionsSeveral = record(
    engine,
    `session check, ${sessionAccounts} users, ${sessionsPerAccount} sessions each`,
    ...severalMeasured,
  );
  for (const shape of [single, several]) {
    await shape.server.stop();
    await shape.database.drop();
  }
  figures.push({
    engine,
    startMs: Math.round(server.startMs),
    hello: helloRun,
    sessionCheck,
    forwardAuth,
    login: loginRun,
    signUp: signUpRun,
    mixed,
    stormSessionCheck,
    stormLogin: stormLoginRun,
    scaleSmall,
    scaleLarge,
    sessionsSingle,
    sessionsSeveral,
  });
}
await hello.stop();

// ---------------------------------------------------------------------------------------------
// Report

interface Target {
  engine: string;
  measure: string;
  value: string;
  target: string;
  met: boolean;
}
const targets: Target[] = [];
const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);
for (const f of figures) {
  const add = (measure: string, value: number, target: string, met: boolean, digits = 2) =>
    targets.push({ engine: f.engine, measure, value: value.toFixed(digits), target, met });
  const checks = ratio(f.sessionCheck.requestsPerSecond, f.hello.requestsPerSecond);
  add('session checks/s ÷ bare Fastify hello/s', checks, '≥ 0.5', checks >= 0.5);
  const logins = ratio(f.login.requestsPerSecond, hashesPerSecond);
  add('logins/s ÷ raw hash ceiling', logins, '≥ 0.9', logins >= 0.9);
  const signUps = ratio(f.signUp.requestsPerSecond, hashesPerSecond);
  add('sign-ups/s ÷ raw hash ceiling', signUps, '≥ 0.9', signUps >= 0.9);
  const storm = ratio(f.stormSessionCheck.requestsPerSecond, f.sessionCheck.requestsPerSecond);
  add('session checks/s in login storm ÷ idle', storm, '≥ 0.3', storm >= 0.3);
  add(
    'p99 of session checks in login storm (ms)',
    f.stormSessionCheck.p99Ms,
    '< 50',
    f.stormSessionCheck.p99Ms < 50,
    0,
  );
  const scale = ratio(f.scaleLarge.requestsPerSecond, f.scaleSmall.requestsPerSecond);
  add(`session checks/s at ${largeUsers} ÷ at ${smallUsers} users`, scale, '≥ 0.9', scale >= 0.9);
  const several = ratio(f.sessionsSeveral.requestsPerSecond, f.sessionsSingle.requestsPerSecond);
  add(
    `session checks/s, ${sessionsPerAccount} sessions ÷ 1 per account`,
    several,
    '≥ 0.9',
    several >= 0.9,
  );
  const rss = f.mixed.peakRssMb ?? NaN;
  add('peak RSS during the mixed run (MB)', rss, '≤ 150', rss <= 150, 0);
  add('start to first answered request (ms)', f.startMs, '≤ 1000', f.startMs <= 1000, 0);
}

process.stdout.write(
  '\nScenario                                     engine      req/s    p50    p99  errors  peak RSS\n',
);
for (const run of runs) {
  process.stdout.write(
    `${run.scenario.padEnd(44)} ${run.engine.padEnd(9)} ${String(run.requestsPerSecond).padStart(7)} ` +
      `${String(run.p50Ms).padStart(6)} ${String(run.p99Ms).padStart(6)} ${String(run.errors).padStart(7)} ` +
      `${run.peakRssMb === null ? '     n/a' : `${String(run.peakRssMb).padStart(5)} MB`}\n`,
  );
}
process.stdout.write(`bcrypt hash ceiling: ${hashesPerSecond.toFixed(2)} hashes/s\n\n`);
process.stdout.write(
  'Target                                              engine     value  target  met\n',
);
for (const t of targets) {
  process.stdout.write(
    `${t.measure.padEnd(51)} ${t.engine.padEnd(9)} ${t.value.padStart(7)} ${t.target.padStart(7)}  ${t.met ? 'yes' : 'NO'}\n`,
  );
}
writeFileSync(
  args.out,
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      machine: { cores: availableParallelism(), node: process.version },
      settings: {
        bcryptRounds: settings.bcryptRounds,
        hashConcurrency: settings.hashConcurrency,
        connections,
        loginConnections,
        rounds,
        durationSeconds: duration,
        smallUsers,
        largeUsers,
        sessionAccounts,
        sessionsPerAccount,
      },
      hashesPerSecond,
      runs,
      alternations,
      startMs: Object.fromEntries(figures.map((f) => [f.engine, f.startMs])),
      targets,
    },
    null,
    2,
  )}\n`,
);
process.stdout.write(`\nwritten to ${args.out}\n`);
