/**
 * The access rules file with the real process: a bad file stops the start (exit 2, naming the
 * file and line), SIGHUP reads the file again without ever stopping the process, the open
 * sign-up warning shows at start, and `config check` checks the file as the start does.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../cli/run-cli.js';
import { temporaryDirectory } from '../support/files.js';
import { rulesFile } from '../support/forward-auth.js';
import { freePort } from '../support/ports.js';
import { MAIN, startIsolatedServer, type ServerProcess } from '../support/process.js';

const GOOD = 'default: [root@example.com]\nrules:\n  - host: a.test\n    policy: everyone\n';
const BETTER = `${GOOD}  - host: b.test\n    policy: [bob@example.com]\n`;
const BAD = `${GOOD}  - host: c.test\n    policy: nobody\n`;
const WARNING = /anyone on the internet can sign up/;

/** Waits until the process has written a line matching `pattern` (the deadline only fails). */
async function logged(server: ServerProcess, pattern: RegExp): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const line = server
      .output()
      .split('\n')
      .find((text) => pattern.test(text));
    if (line !== undefined) return line;
    if (Date.now() > deadline) assert.fail(`never logged ${pattern}:\n${server.output()}`);
    await new Promise((done) => setTimeout(done, 20));
  }
}

async function stillServing(server: ServerProcess): Promise<void> {
  const response = await fetch(`${server.url}/`);
  assert.equal(response.status, 200);
  assert.equal(server.child.exitCode, null);
}

test('a bad rules file stops the start with exit 2, naming the file, the line and the fault', async () => {
  const path = rulesFile(BAD);
  const result = spawnSync(process.execPath, [MAIN], {
    cwd: temporaryDirectory(),
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(await freePort()),
      HOST: '127.0.0.1',
      DATABASE_URL: 'sqlite::memory:',
      ACCESS_RULES_FILE: path,
    },
    encoding: 'utf8',
    timeout: 10_000,
  });
  assert.equal(result.status, 2, result.stderr);
  assert.equal(
    result.stderr,
    `Invalid access rules:\n  ${path}:6: policy: expected everyone, logged_in or a list of emails and @domains\n`,
  );
});

test('a missing rules file stops the start with exit 2, naming the file', () => {
  const path = join(temporaryDirectory(), 'absent.yml');
  const result = spawnSync(process.execPath, [MAIN], {
    cwd: temporaryDirectory(),
    env: { PATH: process.env.PATH ?? '', DATABASE_URL: 'sqlite::memory:', ACCESS_RULES_FILE: path },
    encoding: 'utf8',
    timeout: 10_000,
  });
  assert.equal(result.status, 2, result.stderr);
  assert.match(
    result.stderr,
    new RegExp(`${path.replace(/[.]/g, '\\.')}: cannot be read \\(ENOENT\\)`),
  );
});

test('SIGHUP replaces the rules with a good file, and keeps them through a bad one', async () => {
  const path = rulesFile(GOOD);
  const server = await startIsolatedServer({ ACCESS_RULES_FILE: path, SIGNUP: 'closed' });

  writeFileSync(path, BETTER);
  server.child.kill('SIGHUP');
  const reloaded = JSON.parse(await logged(server, /access rules reloaded/)) as Record<
    string,
    unknown
  >;
  assert.equal(reloaded.level, 30, 'info');
  assert.equal(reloaded.rules, 2);
  assert.equal(reloaded.file, path);
  await stillServing(server);

  writeFileSync(path, BAD);
  server.child.kill('SIGHUP');
  const refused = JSON.parse(await logged(server, /access rules not reloaded/)) as Record<
    string,
    unknown
  >;
  assert.equal(refused.level, 50, 'error');
  assert.deepEqual(refused.problems, [
    `${path}:6: policy: expected everyone, logged_in or a list of emails and @domains`,
  ]);
  await stillServing(server);
  assert.doesNotMatch(server.output(), WARNING, 'sign-up is closed');
});

test('SIGHUP with no rules file is logged and ignored', async () => {
  const server = await startIsolatedServer();
  server.child.kill('SIGHUP');
  await logged(server, /no ACCESS_RULES_FILE is set/);
  await stillServing(server);
  server.child.kill('SIGHUP');
  await stillServing(server);
  assert.doesNotMatch(server.output(), WARNING, 'no forward auth: no warning');
});

test('open sign-up with a logged_in policy gets a warning at start and after a reload', async () => {
  const path = rulesFile('rules:\n  - host: "*.example.com"\n    policy: logged_in\n');
  const server = await startIsolatedServer({ ACCESS_RULES_FILE: path });
  const warning = JSON.parse(await logged(server, WARNING)) as Record<string, unknown>;
  assert.equal(warning.level, 40, 'warn');
  assert.match(String(warning.msg), /SIGNUP.*SIGNUP_EMAIL_DOMAINS/);
  assert.deepEqual(warning.hosts, ['*.example.com', 'every host no rule names (default)']);

  writeFileSync(
    path,
    'default: [root@example.com]\nrules:\n  - host: b.test\n    policy: logged_in\n',
  );
  server.child.kill('SIGHUP');
  await logged(server, /access rules reloaded/);
  const warnings = () =>
    server
      .output()
      .split('\n')
      .filter((line) => WARNING.test(line));
  const deadline = Date.now() + 10_000;
  while (warnings().length < 2 && Date.now() < deadline) {
    await new Promise((done) => setTimeout(done, 20));
  }
  assert.deepEqual((JSON.parse(warnings()[1] ?? '{}') as { hosts?: unknown }).hosts, ['b.test']);
});

test('COOKIE_DOMAIN with open sign-up gets the warning; with SIGNUP_EMAIL_DOMAINS, that addresses are not verified', async () => {
  const cookie = { PUBLIC_URL: 'http://auth.example.test', COOKIE_DOMAIN: 'example.test' };
  const warned = await startIsolatedServer(cookie);
  await logged(warned, WARNING);
  const limited = await startIsolatedServer({ ...cookie, SIGNUP_EMAIL_DOMAINS: 'example.test' });
  await logged(limited, /Bienvenue is ready/);
  assert.doesNotMatch(limited.output(), WARNING);
  // Anyone may still type an address at example.test: nothing proves it is theirs.
  assert.match(limited.output(), /email addresses are not verified/);
});

test('config check refuses a bad rules file with exit 2, and counts the rules of a good one', async () => {
  const bad = rulesFile(BAD);
  const text = await runCli(['config', 'check'], { ACCESS_RULES_FILE: bad });
  assert.equal(text.status, 2);
  assert.match(text.stderr, new RegExp(`${bad.replace(/[.]/g, '\\.')}:6: policy: expected`));
  const json = await runCli(['config', 'check', '--json'], { ACCESS_RULES_FILE: bad });
  assert.equal(json.status, 2);
  assert.deepEqual(JSON.parse(json.stdout), {
    valid: false,
    problems: [`${bad}:6: policy: expected everyone, logged_in or a list of emails and @domains`],
  });

  const good = rulesFile(BETTER);
  const accepted = await runCli(['config', 'check'], { ACCESS_RULES_FILE: good });
  assert.equal(accepted.status, 0, accepted.stderr);
  assert.match(accepted.stdout, /^accessRules\s+2$/m);
});
