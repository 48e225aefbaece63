/**
 * `bienvenue config check` and the secret key: SECRET_KEY validated and masked, the key's source
 * named, a key file checked as the start checks it, and nothing created.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { temporaryDirectory } from '../support/files.js';
import { runCli } from './run-cli.js';

test('config check masks a valid SECRET_KEY and says the key comes from it', async () => {
  const key = randomBytes(32);
  const env = { SECRET_KEY: key.toString('base64'), DATABASE_URL: 'postgres://db.example/app' };
  const text = await runCli(['config', 'check'], env);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /^secretKey\s+\*\*\*$/m);
  assert.match(text.stdout, /^secretKeySource\s+SECRET_KEY$/m);
  const json = await runCli(['config', 'check', '--json'], env);
  assert.equal(json.status, 0, json.stderr);
  const report = JSON.parse(json.stdout) as { settings: Record<string, unknown> };
  assert.equal(report.settings.secretKey, '***');
  for (const output of [text.stdout, json.stdout]) {
    for (const encoding of ['base64', 'hex'] as const) {
      assert.ok(!output.includes(key.toString(encoding)), encoding);
    }
  }
});

test('config check refuses a SECRET_KEY that is not 32 bytes, without printing it, exit 2', async () => {
  const value = randomBytes(24).toString('base64');
  const text = await runCli(['config', 'check'], { SECRET_KEY: value });
  assert.equal(text.status, 2);
  assert.match(text.stderr, /SECRET_KEY/);
  assert.ok(!`${text.stdout}${text.stderr}`.includes(value));
  const json = await runCli(['config', 'check', '--json'], { SECRET_KEY: value });
  assert.equal(json.status, 2);
  const report = JSON.parse(json.stdout) as { valid: boolean; problems: string[] };
  assert.equal(report.valid, false);
  assert.equal(report.problems.length, 1);
  assert.ok(!json.stdout.includes(value));
});

test('config check names the key file beside a SQLite database and creates nothing', async () => {
  const database = join(temporaryDirectory(), 'auth.db');
  const env = { DATABASE_URL: `sqlite:${database}` };
  const before = await runCli(['config', 'check'], env);
  assert.equal(before.status, 0, before.stderr);
  assert.ok(before.stdout.includes(`key file ${database}.key, created at the first start`));
  assert.equal(existsSync(`${database}.key`), false);
  assert.equal(existsSync(database), false);

  writeFileSync(`${database}.key`, randomBytes(32), { mode: 0o600 });
  const present = await runCli(['config', 'check'], env);
  assert.equal(present.status, 0, present.stderr);
  assert.match(present.stdout, new RegExp(`^secretKeySource\\s+key file ${database}\\.key$`, 'm'));
});

test('config check refuses a key file the start would refuse, naming it, exit 2', async () => {
  const database = join(temporaryDirectory(), 'auth.db');
  writeFileSync(`${database}.key`, randomBytes(16), { mode: 0o600 });
  const text = await runCli(['config', 'check'], { DATABASE_URL: `sqlite:${database}` });
  assert.equal(text.status, 2);
  assert.ok(text.stderr.includes(`${database}.key`), text.stderr);
  assert.match(text.stderr, /16 bytes/);
  assert.doesNotMatch(text.stderr, /\n\s+at /);
});

test('config check says two-factor authentication is unavailable on PostgreSQL without a key', async () => {
  const text = await runCli(['config', 'check'], { DATABASE_URL: 'postgres://db.example/app' });
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /^secretKeySource\s+none: two-factor authentication unavailable/m);
});
