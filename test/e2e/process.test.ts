/**
 * The real server process, as `npm start` runs it (the bundle): start with no settings, the files
 * it serves from its packages, its code cache, durability, graceful stop, bad settings.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { CLI } from '../cli/run-cli.js';
import { formBody, MAIN, startIsolatedServer, startServerProcess } from '../support/process.js';
import { temporaryDirectory } from '../support/files.js';
import { freePort } from '../support/ports.js';

test('with no variables set it serves GET / on port 5000 from ./data/bienvenue.db', async () => {
  const directory = temporaryDirectory();
  const server = await startServerProcess({ cwd: directory, port: 5000, env: {} });
  const response = await fetch(`${server.url}/`);
  assert.deepEqual(await response.json(), { message: 'Bienvenue' });
  assert.ok(existsSync(join(directory, 'data', 'bienvenue.db')));
  assert.match(server.output(), /SMTP_URL is not set/);
});

test('the bundled service serves the files it reads from its packages: the API page and the passkey script', async () => {
  const server = await startIsolatedServer({});
  for (const [path, type] of [
    ['/docs/', /^text\/html/],
    ['/docs/static/swagger-ui.css', /^text\/css/],
    ['/docs/static/logo.svg', /^image\/svg\+xml/],
    ['/webauthn.js', /^(text|application)\/javascript/],
  ] as const) {
    const response = await fetch(`${server.url}${path}`);
    assert.equal(response.status, 200, path);
    assert.match(response.headers.get('content-type') ?? '', type, path);
    assert.ok((await response.arrayBuffer()).byteLength > 0, path);
  }
});

test('the build leaves a code cache that V8 takes for the bundle npm start runs', async () => {
  const directory = temporaryDirectory();
  const loader = pathToFileURL(join(import.meta.dirname, '..', '..', 'src', 'bundle-loader.js'));
  const bundle = join(dirname(MAIN), 'bienvenue.cjs');
  // The service starts in the background; the script prints whether its bundle came from the
  // cache, and exits.
  const script = `
    const { runBundle } = await import(${JSON.stringify(loader.href)});
    const run = runBundle(${JSON.stringify(bundle)});
    process.stdout.write(JSON.stringify(run.fromCache));
    process.exit(0);`;
  const ran = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: directory,
    env: { PATH: process.env.PATH ?? '', PORT: String(await freePort()), HOST: '127.0.0.1' },
    encoding: 'utf8',
  });
  assert.equal(ran.status, 0, ran.stderr);
  assert.equal(ran.stdout, 'true');
});

test('an acknowledged sign-up and login survive kill -9', async () => {
  const first = await startIsolatedServer({ BCRYPT_ROUNDS: '4' });
  const credentials = { email: 'dana@example.com', password: 'durable password' };
  const post = (url: string) => fetch(url, { method: 'POST', body: formBody(credentials) });
  assert.equal((await post(`${first.url}/users`)).status, 200);
  const login = await post(`${first.url}/sessions`);
  assert.equal(login.status, 200);
  const cookie = login.headers.get('set-cookie')?.split(';')[0] ?? '';
  first.child.kill('SIGKILL');
  await first.exited;

  const second = await startIsolatedServer({ BCRYPT_ROUNDS: '4' }, first);
  const profile = await fetch(`${second.url}/profile`, { headers: { cookie } });
  assert.equal(profile.status, 200);
  assert.equal((await post(`${second.url}/sessions`)).status, 200);
});

test('metrics are served on METRICS_PORT only, in the Prometheus text format', async () => {
  const metricsPort = await freePort();
  const server = await startIsolatedServer({ METRICS_PORT: String(metricsPort) });
  await fetch(`${server.url}/profile`);
  const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  assert.equal(metrics.status, 200);
  assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain/);
  const text = await metrics.text();
  assert.match(
    text,
    /bienvenue_http_request_duration_seconds_count\{method="GET",route="\/profile",status_code="403"\} 1/,
  );
  assert.match(text, /bienvenue_nodejs_eventloop_lag_seconds/);
  assert.equal((await fetch(`${server.url}/metrics`)).status, 404, 'not on the public port');
});

test('SIGTERM lets a request in flight finish, then the process exits 0', async () => {
  // A sign-up at cost 14 hashes for about a second: long enough to be in flight.
  const server = await startIsolatedServer({ BCRYPT_ROUNDS: '14' });
  const inFlight = fetch(`${server.url}/users`, {
    method: 'POST',
    body: formBody({ email: 'erin@example.com', password: 'slow password' }),
  });
  await new Promise((done) => setTimeout(done, 200));
  server.child.kill('SIGTERM');
  const response = await inFlight;
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { email: 'erin@example.com', message: 'user created' });
  assert.equal(await server.exited, 0);
  assert.match(server.output(), /shutting down/);
});

test('invalid settings stop the start with a message naming every bad variable', () => {
  const result = spawnSync(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', PORT: 'eighty', BCRYPT_ROUNDS: '2', PUBLIC_URL: 'nope' },
    encoding: 'utf8',
    timeout: 10_000,
  });
  assert.equal(result.status, 2);
  for (const name of ['PORT', 'BCRYPT_ROUNDS', 'PUBLIC_URL'])
    assert.match(result.stderr, new RegExp(name));
});

test('a TRUST_PROXY that is not addresses, ranges or keywords stops the start with exit 2', async () => {
  for (const value of ['foo', '1', '10.0.0.0/33']) {
    const result = spawnSync(process.execPath, [MAIN], {
      cwd: temporaryDirectory(),
      env: {
        PATH: process.env.PATH ?? '',
        PORT: String(await freePort()),
        HOST: '127.0.0.1',
        DATABASE_URL: 'sqlite::memory:',
        TRUST_PROXY: value,
      },
      encoding: 'utf8',
      timeout: 10_000,
    });
    assert.equal(result.status, 2, `TRUST_PROXY=${value}: ${result.stderr}`);
    assert.match(result.stderr, new RegExp(`TRUST_PROXY=${value.replace(/\./g, '\\.')}`));
  }
});

test('bienvenue migrate applies the migrations once, then reports the database current', () => {
  const directory = temporaryDirectory();
  const script = CLI;
  const env = { PATH: process.env.PATH ?? '', DATABASE_URL: `sqlite:${join(directory, 'm.db')}` };
  const first = spawnSync(process.execPath, [script, 'migrate'], {
    env,
    encoding: 'utf8',
    timeout: 10_000,
  });
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /applied 0001_users/);
  const second = spawnSync(process.execPath, [script, 'migrate'], {
    env,
    encoding: 'utf8',
    timeout: 10_000,
  });
  assert.equal(second.status, 0, second.stderr);
  assert.match(second.stdout, /up to date/);
});
