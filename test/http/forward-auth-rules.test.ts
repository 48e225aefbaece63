/**
 * Forward auth judged by an ACCESS_RULES_FILE, through inject() on both engines: the file's
 * policies decide each host, its listed emails match by key, and a reload changes the answers
 * at once when the new file is good and not at all when it is bad.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { askForward, rulesFile } from '../support/forward-auth.js';
import { signUpAndLogIn, startTestService } from '../support/service.js';

const RULES = `default: [root@example.test]
rules:
  - host: public.example.test
    policy: everyone
  - host: "*.staff.example.test"
    policy: [Alice@Example.TEST, "@staff.example.test"]
  - host: wiki.example.test
    policy: logged_in
`;

/** The status /auth/forward answers for an API call to `host` with `session`. */
async function statusFor(app: FastifyInstance, host: string, session?: string): Promise<number> {
  return (await askForward(app, host, session)).statusCode;
}

test('the rules file decides each host: everyone, listed accounts by key, @domain, logged_in, default', async () => {
  const path = rulesFile(RULES);
  const { app } = await startTestService({ ACCESS_RULES_FILE: path });
  const alice = await signUpAndLogIn(app, 'ALICE@example.test');
  const dan = await signUpAndLogIn(app, 'dan@staff.example.test');
  const eve = await signUpAndLogIn(app, 'eve@example.test');

  assert.equal(await statusFor(app, 'public.example.test'), 200);
  assert.equal(await statusFor(app, 'app.staff.example.test'), 401);
  assert.equal(await statusFor(app, 'app.staff.example.test', alice), 200);
  assert.equal(await statusFor(app, 'App.Staff.Example.test:443', dan), 200);
  assert.equal(await statusFor(app, 'app.staff.example.test', eve), 403);
  assert.equal(await statusFor(app, 'staff.example.test', dan), 403, 'the apex gets the default');
  assert.equal(await statusFor(app, 'wiki.example.test', eve), 200);
  assert.equal(await statusFor(app, 'other.example.test', eve), 403);
});

test('a reload with a good file changes the answers at once; with a bad one, nothing changes', async () => {
  const path = rulesFile(RULES);
  const { app, accessRules } = await startTestService({ ACCESS_RULES_FILE: path });
  const eve = await signUpAndLogIn(app, 'eve@example.test');
  assert.equal(await statusFor(app, 'other.example.test', eve), 403);

  writeFileSync(path, `${RULES}  - host: other.example.test\n    policy: ["@example.test"]\n`);
  assert.equal(accessRules.reload().outcome, 'reloaded');
  assert.equal(await statusFor(app, 'other.example.test', eve), 200);

  writeFileSync(
    path,
    'default: everyone\nrules:\n  - host: other.example.test\n    policy: nobody\n',
  );
  assert.equal(accessRules.reload().outcome, 'refused');
  assert.equal(await statusFor(app, 'other.example.test', eve), 200, 'the good rules stay');
  assert.equal(await statusFor(app, 'elsewhere.example.test'), 401, 'not the bad default');
});

test('a bad rules file stops the service from being built, before the database is opened', async () => {
  const path = rulesFile('rules:\n  - host: app.example.test:8080\n    policy: everyone\n');
  await assert.rejects(
    startTestService({ ACCESS_RULES_FILE: path, DATABASE_URL: 'postgres://nowhere.invalid/x' }),
    {
      name: 'AccessRulesFileError',
      message: new RegExp(`${path.replace(/[.]/g, '\\.')}:2: host: expected a host name`),
    },
  );
});

test('the open sign-up warning is logged when the service is built with forward auth', async () => {
  const path = rulesFile(RULES);
  const warned = await startTestService({ ACCESS_RULES_FILE: path });
  assert.ok(warned.logs.some((line) => line.includes('anyone on the internet can sign up')));
  const closed = await startTestService({ ACCESS_RULES_FILE: path, SIGNUP: 'closed' });
  assert.ok(!closed.logs.some((line) => line.includes('anyone on the internet can sign up')));
  const plain = await startTestService();
  assert.ok(!plain.logs.some((line) => line.includes('anyone on the internet can sign up')));
});

test('a refused account gets 403 access_denied; a browser gets a page naming it, styled and linked from the service', async () => {
  const path = rulesFile(RULES);
  const { app } = await startTestService({ ACCESS_RULES_FILE: path });
  const eve = await signUpAndLogIn(app, 'eve@example.test');
  const api = await askForward(app, 'app.staff.example.test', eve, { uri: '/board' });
  assert.equal(api.statusCode, 403);
  assert.equal(api.json<{ code: string }>().code, 'access_denied');
  assert.equal(api.headers['remote-user'], undefined, 'no identity for a refused request');

  const page = await askForward(app, 'app.staff.example.test', eve, {
    uri: '/board',
    accept: 'text/html',
  });
  assert.equal(page.statusCode, 403);
  assert.match(String(page.headers['content-type']), /^text\/html/);
  assert.match(page.body, /logged in as <strong>eve@example\.test<\/strong>/);
  assert.match(page.body, /may not use app\.staff\.example\.test/);
  const switchTo = `http://auth.test/login?rd=${encodeURIComponent('https://app.staff.example.test/board')}`;
  assert.ok(page.body.includes(`href="${switchTo.replaceAll('&', '&amp;')}"`), 'a link to switch');
  assert.ok(page.body.includes('href="http://auth.test/style.css"'), 'the service’s stylesheet');
  const csp = String(page.headers['content-security-policy']);
  assert.match(csp, /style-src http:\/\/auth\.test;/);
  assert.doesNotMatch(csp, /unsafe-inline|script-src/);
  assert.equal(page.headers['set-cookie'], undefined);
});

test('an everyone host passes without a login and with no identity, and with a login with its identity', async () => {
  const path = rulesFile(RULES);
  const { app } = await startTestService({ ACCESS_RULES_FILE: path });
  const eve = await signUpAndLogIn(app, 'eve@example.test');
  const ask = (session?: string) =>
    app.inject({
      method: 'GET',
      url: '/auth/request',
      headers: { 'x-original-url': 'https://public.example.test/', accept: 'text/html' },
      ...(session !== undefined && { cookies: { session_id: session } }),
    });
  const anonymous = await ask();
  assert.equal(anonymous.statusCode, 200);
  assert.equal(anonymous.headers['remote-user'], undefined);
  assert.equal(anonymous.headers['remote-email'], undefined);
  const known = await ask(eve);
  assert.equal(known.statusCode, 200);
  assert.equal(known.headers['remote-email'], 'eve@example.test');
});

test('addresses are not verified: a listed address without an account passes whoever signs up with it, and the start warns of it', async () => {
  const path = rulesFile(RULES);
  const { app, logs } = await startTestService({
    ACCESS_RULES_FILE: path,
    SIGNUP_EMAIL_DOMAINS: 'example.test',
  });
  // Nobody proves owning root@example.test: the first to sign up with it is root to the rules.
  const stranger = await signUpAndLogIn(app, 'root@example.test');
  assert.equal(await statusFor(app, 'other.example.test', stranger), 200);
  const warning = logs.find((line) => line.includes('not verified'));
  assert.ok(warning !== undefined, 'the start warns that listed addresses can be claimed');
  assert.deepEqual((JSON.parse(warning) as { hosts?: unknown }).hosts, [
    '*.staff.example.test',
    'wiki.example.test',
    'every host no rule names (default)',
  ]);
});
