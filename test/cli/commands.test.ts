/**
 * The `bienvenue` commands other than account administration, run as real processes: help and
 * usage errors, `config check`, `hash calibrate` and `serve`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { test } from 'node:test';
import { freshDatabaseUrl } from '../support/databases.js';
import { temporaryDirectory } from '../support/files.js';
import { freePort } from '../support/ports.js';
import { MAIN } from '../support/process.js';
import { runCli, spawnCli } from './run-cli.js';

const EXIT_CODES = /Exit codes:[\s\S]*3\s+no such account[\s\S]*4\s+refused/;

test('--help at the top, for a group and for a command prints usage and the exit codes', async () => {
  const top = await runCli(['--help'], {});
  assert.equal(top.status, 0, top.stderr);
  assert.match(top.stdout, /^Usage: bienvenue COMMAND/);
  for (const command of [
    'serve',
    'migrate',
    'users add',
    'users set-password',
    'events',
    'config check',
    'hash calibrate',
  ]) {
    assert.match(top.stdout, new RegExp(`bienvenue ${command}`));
  }
  assert.match(top.stdout, EXIT_CODES);
  const group = await runCli(['users', '--help'], {});
  assert.equal(group.status, 0, group.stderr);
  assert.match(group.stdout, /bienvenue users revoke-sessions EMAIL/);
  assert.match(group.stdout, EXIT_CODES);
  const command = await runCli(['events', '--help'], {});
  assert.equal(command.status, 0, command.stderr);
  assert.match(command.stdout, /--type TYPE/);
  assert.match(command.stdout, EXIT_CODES);
  const nested = await runCli(['users', 'add', '-h'], {});
  assert.equal(nested.status, 0, nested.stderr);
  assert.match(nested.stdout, /--password-stdin/);
});

test('an unknown command, a missing argument or an unknown option exits 2', async () => {
  const unknown = await runCli(['frobnicate'], {});
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /Unknown command "frobnicate"/);
  assert.equal((await runCli(['users', 'frobnicate'], {})).status, 2);
  assert.equal((await runCli([], {})).status, 2);
  const missing = await runCli(['users', 'show'], {});
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /EMAIL/);
  const option = await runCli(['users', 'list', '--colour'], {});
  assert.equal(option.status, 2);
  assert.match(option.stderr, /--colour/);
  assert.doesNotMatch(option.stderr, /\n\s+at /);
});

test('config check prints the effective settings with passwords masked', async () => {
  const env = {
    DATABASE_URL: 'postgres://app:db-secret@db.example:5432/app',
    SMTP_URL: 'smtp://mailer:smtp-secret@smtp.example:587',
    BCRYPT_ROUNDS: '11',
  };
  const text = await runCli(['config', 'check'], env);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /^bcryptRounds\s+11$/m);
  assert.match(text.stdout, /^databaseUrl\s+postgres:\/\/app:\*\*\*@db\.example:5432\/app$/m);
  assert.match(text.stdout, /^smtpUrl\s+smtp:\/\/mailer:\*\*\*@smtp\.example:587$/m);
  assert.match(text.stdout, /^rateLimits\.login\.max\s+30$/m);
  assert.doesNotMatch(text.stdout, /db-secret|smtp-secret/);
  const json = await runCli(['config', 'check', '--json'], env);
  assert.equal(json.status, 0, json.stderr);
  const report = JSON.parse(json.stdout) as { valid: boolean; settings: Record<string, unknown> };
  assert.equal(report.valid, true);
  assert.equal(report.settings.databaseUrl, 'postgres://app:***@db.example:5432/app');
  assert.doesNotMatch(json.stdout, /db-secret|smtp-secret/);
});

test('config check names every bad variable and exits 2', async () => {
  const env = { PORT: 'eighty', BCRYPT_ROUNDS: '99', LOG_LEVEL: 'loud' };
  const text = await runCli(['config', 'check'], env);
  assert.equal(text.status, 2);
  for (const name of ['PORT', 'BCRYPT_ROUNDS', 'LOG_LEVEL'])
    assert.match(text.stderr, new RegExp(name));
  assert.doesNotMatch(text.stderr, /\n\s+at /);
  const json = await runCli(['config', 'check', '--json'], env);
  assert.equal(json.status, 2);
  const report = JSON.parse(json.stdout) as { valid: boolean; problems: string[] };
  assert.equal(report.valid, false);
  assert.equal(report.problems.length, 3);
});

test('config check refuses a TRUST_PROXY the server would refuse, naming it, with exit 2', async () => {
  for (const value of ['foo', '1', '10.0.0.0/33']) {
    const text = await runCli(['config', 'check'], { TRUST_PROXY: value });
    assert.equal(text.status, 2, `TRUST_PROXY=${value}: ${text.stdout}`);
    assert.match(text.stderr, /TRUST_PROXY=/);
    const json = await runCli(['config', 'check', '--json'], { TRUST_PROXY: value });
    assert.equal(json.status, 2);
    const report = JSON.parse(json.stdout) as { valid: boolean; problems: string[] };
    assert.equal(report.valid, false);
    assert.deepEqual(
      report.problems.map((problem) => problem.split(':')[0]),
      [`TRUST_PROXY=${value}`],
    );
  }
  const valid = await runCli(['config', 'check'], { TRUST_PROXY: '10.0.0.0/8,loopback' });
  assert.equal(valid.status, 0, valid.stderr);
  assert.match(valid.stdout, /^trustProxy\s+10\.0\.0\.0\/8, loopback$/m);
});

test('config check and the server agree on a __Host- session cookie name: https only', async () => {
  const name = { SESSION_COOKIE_NAME: '__Host-session_id' };
  const refused = await runCli(['config', 'check'], { ...name, PUBLIC_URL: 'http://auth.test' });
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /SESSION_COOKIE_NAME=__Host-session_id: .*https PUBLIC_URL/);
  const server = spawnSync(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', ...name, PUBLIC_URL: 'http://auth.test' },
    encoding: 'utf8',
    timeout: 10_000,
  });
  assert.equal(server.status, 2);
  assert.match(server.stderr, /SESSION_COOKIE_NAME=__Host-session_id: .*https PUBLIC_URL/);
  const accepted = await runCli(['config', 'check'], { ...name, PUBLIC_URL: 'https://auth.test' });
  assert.equal(accepted.status, 0, accepted.stderr);
  assert.match(accepted.stdout, /^sessionCookieName\s+__Host-session_id$/m);
});

test('hash calibrate times each cost and recommends one within the target', async () => {
  const json = await runCli(
    ['hash', 'calibrate', '--min-cost', '4', '--max-cost', '5', '--target-ms', '1000', '--json'],
    {},
  );
  assert.equal(json.status, 0, json.stderr);
  const report = JSON.parse(json.stdout) as {
    targetMs: number;
    timings: { cost: number; medianMs: number }[];
    recommendedCost: number | null;
  };
  assert.equal(report.targetMs, 1000);
  assert.deepEqual(
    report.timings.map((timing) => timing.cost),
    [4, 5],
  );
  assert.ok(report.timings.every((timing) => timing.medianMs > 0));
  assert.equal(report.recommendedCost, 5);
  const text = await runCli(['hash', 'calibrate', '--min-cost', '4', '--max-cost', '4'], {});
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /^COST\s+MEDIAN MS$/m);
  assert.match(text.stdout, /BCRYPT_ROUNDS=4/);
  const none = await runCli(
    ['hash', 'calibrate', '--min-cost', '6', '--max-cost', '6', '--target-ms', '1'],
    {},
  );
  assert.equal(none.status, 0, none.stderr);
  assert.match(none.stdout, /No cost from 6 to 6/);
  const reversed = await runCli(['hash', 'calibrate', '--min-cost', '6', '--max-cost', '5'], {});
  assert.equal(reversed.status, 2);
});

test('serve answers HTTP until SIGTERM, then exits 0', async () => {
  const port = await freePort();
  const databaseUrl = await freshDatabaseUrl({ sqliteFile: join(temporaryDirectory(), 'cli.db') });
  const child = spawnCli(['serve'], {
    DATABASE_URL: databaseUrl,
    BCRYPT_ROUNDS: '4',
    RATE_LIMIT: 'on',
    PORT: String(port),
    HOST: '127.0.0.1',
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const deadline = Date.now() + 15_000;
  for (;;) {
    assert.equal(child.exitCode, null, `serve exited early:\n${output}`);
    const status = await fetch(`http://127.0.0.1:${port}/`).then(
      (response) => response.status,
      () => undefined,
    );
    if (status === 200) break;
    assert.ok(Date.now() < deadline, `serve did not answer:\n${output}`);
    await new Promise((done) => setTimeout(done, 50));
  }
  child.kill('SIGTERM');
  const [code] = await exited;
  assert.equal(code, 0, output);
});
