/**
 * Forward auth and proven addresses, through inject() on both engines: `Remote-Email-Verified`
 * is in every answer that lets a request pass (`false` without an account), a rule with
 * `email_verified: true` refuses accounts whose address is not verified (403
 * `email_not_verified`), and with EMAIL_VERIFICATION=required an unverified account's session
 * counts as no session at all.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseAccessRules } from '../../src/auth/access-rules-file.js';
import { askForward, askRequest, rulesFile } from '../support/forward-auth.js';
import { signUpAndLogIn, startTestService } from '../support/service.js';

const RULES = `rules:
  - host: proven.example.test
    policy: logged_in
    email_verified: true
  - host: wiki.example.test
    policy: logged_in
  - host: public.example.test
    policy: everyone
`;

describe('Remote-Email-Verified and the email_verified rule', () => {
  test('the header says whether the address is verified; the rule lets only verified ones pass', async () => {
    const { app, admin } = await startTestService({ ACCESS_RULES_FILE: rulesFile(RULES) });
    const session = await signUpAndLogIn(app, 'bob@example.com');

    const unverified = await askForward(app, 'wiki.example.test', session);
    assert.equal(unverified.statusCode, 200);
    assert.equal(unverified.headers['remote-email-verified'], 'false');
    const refused = await askForward(app, 'proven.example.test', session);
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.json<{ code: string }>().code, 'email_not_verified');
    assert.equal(refused.headers['remote-email-verified'], undefined);
    const nginx = await askRequest(app, 'proven.example.test', session);
    assert.equal(nginx.statusCode, 403);
    const page = await askForward(app, 'proven.example.test', session, { accept: 'text/html' });
    assert.equal(page.statusCode, 403);
    assert.match(page.body, /asks for a verified email address/);
    assert.match(page.body, /href="http:\/\/auth\.test\/account"/);

    assert.equal(await admin.verifyEmail('bob@example.com'), true);
    const verified = await askForward(app, 'wiki.example.test', session);
    assert.equal(verified.headers['remote-email-verified'], 'true');
    const passes = await askForward(app, 'proven.example.test', session);
    assert.equal(passes.statusCode, 200);
    assert.equal(passes.headers['remote-email-verified'], 'true');
    assert.equal(passes.headers['remote-email'], 'bob@example.com');
    assert.equal((await askRequest(app, 'proven.example.test', session)).statusCode, 200);
  });

  test('a host open to everyone, visited without a session, still gets the header: false', async () => {
    const { app } = await startTestService({ ACCESS_RULES_FILE: rulesFile(RULES) });
    const anonymous = await askForward(app, 'public.example.test');
    assert.equal(anonymous.statusCode, 200);
    assert.equal(anonymous.headers['remote-email-verified'], 'false');
    assert.equal(anonymous.headers['remote-email'], undefined);
    assert.equal((await askForward(app, 'proven.example.test')).statusCode, 401);
  });

  test('with EMAIL_VERIFICATION=required, an unverified account’s session is no session', async () => {
    const { app, auth, admin } = await startTestService({ EMAIL_VERIFICATION: 'required' });
    const signUp = await app.inject({
      method: 'POST',
      url: '/users',
      payload: { email: 'carol@example.com', password: 'correct horse' },
    });
    assert.equal(signUp.statusCode, 200);
    // A session opened before verification was required (the course's createSession opens one
    // without asking anything).
    const session = await auth.createSession('carol@example.com');
    assert.ok(session);
    const refused = await askForward(app, 'wiki.example.test', session);
    assert.equal(refused.statusCode, 401);
    assert.equal(refused.json<{ code: string }>().code, 'session_required');
    await admin.verifyEmail('carol@example.com');
    const passes = await askForward(app, 'wiki.example.test', session);
    assert.equal(passes.statusCode, 200);
    assert.equal(passes.headers['remote-email-verified'], 'true');
  });

  test('email_verified in the rules file: true or false only, and not with everyone', () => {
    const good = parseAccessRules(RULES, 'rules.yml');
    assert.equal(
      good.decide('proven.example.test', { emailKey: 'a@b.example' }),
      'email_not_verified',
    );
    assert.equal(
      good.decide('proven.example.test', { emailKey: 'a@b.example', emailVerified: true }),
      'pass',
    );
    for (const bad of [
      'rules:\n  - host: a.example.test\n    policy: logged_in\n    email_verified: yes please\n',
      'rules:\n  - host: a.example.test\n    policy: everyone\n    email_verified: true\n',
    ]) {
      assert.throws(() => parseAccessRules(bad, 'rules.yml'), /email_verified/);
    }
  });
});
