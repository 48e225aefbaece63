/**
 * Passkeys through the API, on both engines, with a software authenticator: adding, listing and
 * removing them, a discoverable login, and every check the server makes (the challenge, once and
 * in time; the origin and RP ID; the signature; the counter), the login rate limit, the recent
 * login or password that adding one needs, passkey-only accounts, and forward auth.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { SoftAuthenticator } from '../support/authenticator.js';
import { askForward, rulesFile } from '../support/forward-auth.js';
import {
  addPasskey,
  creationOptions,
  json,
  logInWithPasskey,
  requestOptions,
  sendLogin,
  TEST_ORIGIN,
} from '../support/passkeys.js';
import {
  sessionCookie,
  signUpAndLogIn,
  startTestService,
  submit,
  type TestService,
} from '../support/service.js';
import { totpCodeAt } from '../support/totp.js';
import { startWithDatabase } from '../support/two-factor.js';
import type { AuditEventType } from '../../src/auth/audit.js';

const EMAIL = 'bob@example.com';
const PASSWORD = 'correct horse';

/** The audit events of `type`, written. */
async function events(service: TestService, type: AuditEventType) {
  await service.auth.drain();
  return service.admin.events({ type, limit: 100 });
}

async function withPasskey(env: Record<string, string> = {}) {
  const service = await startTestService(env);
  const session = await signUpAndLogIn(service.app, EMAIL, PASSWORD);
  const { answer, authenticator } = await addPasskey(service.app, session);
  assert.equal(answer.statusCode, 200, answer.body);
  return { service, app: service.app, session, authenticator };
}

function removePassword(app: FastifyInstance, session: string) {
  return app.inject({
    method: 'DELETE',
    url: '/profile/password',
    cookies: { session_id: session },
    ...json({}),
  });
}

function listed(app: FastifyInstance, session: string) {
  return app.inject({ method: 'GET', url: '/profile/passkeys', cookies: { session_id: session } });
}

describe('passkeys: adding and listing', () => {
  test('a passkey is added with its name, listed, and its holder emailed', async () => {
    const { service, app, session } = await withPasskey();
    const list = (await listed(app, session)).json<{ passkeys: Record<string, unknown>[] }>();
    assert.equal(list.passkeys.length, 1);
    const passkey = list.passkeys[0] ?? {};
    assert.equal(passkey.name, 'Laptop');
    assert.equal(passkey.last_used_at, null);
    assert.equal(passkey.backed_up, false);
    assert.deepEqual(Object.keys(passkey).sort(), [
      'backed_up',
      'created_at',
      'id',
      'last_used_at',
      'name',
    ]);
    await service.auth.drain();
    assert.ok(service.mailer.sent.some((mail) => /passkey was added/.test(mail.subject)));
    assert.equal((await events(service, 'passkey_added')).length, 1);
  });

  test('the creation options require a discoverable credential and exclude those held', async () => {
    const { app, session, authenticator } = await withPasskey();
    const options = await creationOptions(app, session);
    const raw = options as unknown as {
      authenticatorSelection: { residentKey: string; userVerification: string };
      rp: { id: string };
    };
    assert.equal(raw.authenticatorSelection.residentKey, 'required');
    assert.equal(raw.authenticatorSelection.userVerification, 'preferred');
    assert.equal(raw.rp.id, 'auth.test');
    assert.deepEqual(
      options.excludeCredentials?.map((credential) => credential.id),
      authenticator.credentialIds,
    );
  });

  test('the RP ID is COOKIE_DOMAIN when set', async () => {
    const service = await startTestService({
      PUBLIC_URL: 'http://auth.example.test',
      COOKIE_DOMAIN: 'example.test',
    });
    const session = await signUpAndLogIn(service.app, EMAIL, PASSWORD);
    const options = await creationOptions(service.app, session);
    assert.equal(options.rp.id, 'example.test');
  });

  test('without a session, nothing is offered nor added', async () => {
    const { app } = await startTestService();
    const options = await app.inject({ method: 'POST', url: '/profile/passkeys/options' });
    assert.equal(options.statusCode, 403);
    assert.equal(options.json<{ code: string }>().code, 'session_required');
    assert.equal((await app.inject({ method: 'GET', url: '/profile/passkeys' })).statusCode, 403);
  });

  test('a session older than 10 minutes adds one only with the password', async () => {
    const service = await startTestService();
    const session = await signUpAndLogIn(service.app, EMAIL, PASSWORD);
    service.clock.advanceSeconds(11 * 60);
    const stale = await service.app.inject({
      method: 'POST',
      url: '/profile/passkeys/options',
      cookies: { session_id: session },
      ...json({}),
    });
    assert.equal(stale.statusCode, 403);
    assert.equal(stale.json<{ code: string }>().code, 'recent_login_required');
    const wrong = await service.app.inject({
      method: 'POST',
      url: '/profile/passkeys/options',
      cookies: { session_id: session },
      ...json({ password: 'not it' }),
    });
    assert.equal(wrong.statusCode, 401);
    assert.equal(wrong.json<{ code: string }>().code, 'wrong_password');
    const options = await creationOptions(service.app, session, PASSWORD);
    const answer = await service.app.inject({
      method: 'POST',
      url: '/profile/passkeys',
      cookies: { session_id: session },
      ...json({ name: 'Key', response: new SoftAuthenticator(TEST_ORIGIN).create(options) }),
    });
    assert.equal(answer.statusCode, 200, answer.body);
    assert.deepEqual(Object.keys(answer.json()).sort(), ['created_at', 'id', 'name']);
  });

  test('a registration for another origin, another RP ID or a spent challenge is refused', async () => {
    const service = await startTestService();
    const { app } = service;
    const session = await signUpAndLogIn(app, EMAIL, PASSWORD);
    for (const bend of [{ origin: 'http://evil.test' }, { rpId: 'evil.test' }]) {
      const { answer } = await addPasskey(app, session, { bend });
      assert.equal(answer.statusCode, 401, answer.body);
      assert.equal(answer.json<{ code: string }>().code, 'passkey_rejected');
    }
    const options = await creationOptions(app, session);
    const authenticator = new SoftAuthenticator(TEST_ORIGIN);
    const send = (response: object) =>
      app.inject({
        method: 'POST',
        url: '/profile/passkeys',
        cookies: { session_id: session },
        ...json({ name: 'Key', response }),
      });
    assert.equal((await send(authenticator.create(options))).statusCode, 200);
    // The same challenge again, even with a new credential: refused.
    assert.equal((await send(authenticator.create(options))).statusCode, 401);
    // Another account's challenge does not serve this one.
    const other = await signUpAndLogIn(app, 'carol@example.com', PASSWORD);
    const theirs = await creationOptions(app, other);
    assert.equal((await send(authenticator.create(theirs))).statusCode, 401);
    assert.equal((await listed(app, session)).json<{ passkeys: [] }>().passkeys.length, 1);
    assert.ok((await events(service, 'passkey_rejected')).length >= 4);
  });

  test('a malformed response is a 4xx, never a 500', async () => {
    const { app, session } = await withPasskey();
    for (const response of [{}, { id: 'x', rawId: 'x', type: 'public-key', response: {} }, 'x']) {
      const answer = await app.inject({
        method: 'POST',
        url: '/profile/passkeys',
        cookies: { session_id: session },
        ...json({ name: 'Key', response }),
      });
      assert.ok(answer.statusCode >= 400 && answer.statusCode < 500, answer.body);
      const login = await sendLogin(app, response as object);
      assert.ok(login.statusCode >= 400 && login.statusCode < 500, login.body);
    }
  });
});

describe('passkeys: logging in', () => {
  test('a discoverable login opens a passkey session, audited as such', async () => {
    const { service, app, authenticator } = await withPasskey();
    const options = await requestOptions(app);
    assert.equal((options as { allowCredentials?: unknown[] }).allowCredentials?.length ?? 0, 0);
    const login = await sendLogin(app, authenticator.get(options));
    assert.equal(login.statusCode, 200, login.body);
    assert.deepEqual(login.json(), { email: EMAIL, message: 'logged in' });
    const session = sessionCookie(login);
    assert.ok(session);
    const sessions = await app.inject({
      method: 'GET',
      url: '/profile/sessions',
      cookies: { session_id: session },
    });
    const current = sessions
      .json<{ sessions: { current: boolean; authenticated_by: string }[] }>()
      .sessions.find((one) => one.current);
    assert.equal(current?.authenticated_by, 'passkey');
    const succeeded = await events(service, 'login_succeeded');
    assert.deepEqual(succeeded.map((event) => event.authMethod).sort(), ['passkey', 'password']);
    assert.equal((await events(service, 'passkey_login')).length, 1);
    const list = (await listed(app, session)).json<{ passkeys: { last_used_at: string }[] }>();
    assert.ok(list.passkeys[0]?.last_used_at);
  });

  test('a login without user verification is one factor', async () => {
    const { app, authenticator } = await withPasskey();
    const login = await logInWithPasskey(app, authenticator, { userVerified: false });
    assert.equal(login.statusCode, 200, login.body);
    const sessions = await app.inject({
      method: 'GET',
      url: '/profile/sessions',
      cookies: { session_id: sessionCookie(login) ?? '' },
    });
    const current = sessions
      .json<{ sessions: { current: boolean; authenticated_by: string }[] }>()
      .sessions.find((one) => one.current);
    assert.equal(current?.authenticated_by, 'passkey_without_uv');
  });

  const refusals = {
    'another origin': { origin: 'http://evil.test' },
    'another RP ID': { rpId: 'evil.test' },
    'a bad signature': { badSignature: true },
    'a challenge never given': { challenge: 'bm90LWEtY2hhbGxlbmdl' },
  };
  for (const [what, bend] of Object.entries(refusals)) {
    test(`a login with ${what} is refused with passkey_rejected`, async () => {
      const { service, app, authenticator } = await withPasskey();
      const login = await logInWithPasskey(app, authenticator, bend);
      assert.equal(login.statusCode, 401, login.body);
      assert.equal(login.json<{ code: string }>().code, 'passkey_rejected');
      assert.equal(sessionCookie(login), undefined);
      assert.equal((await events(service, 'passkey_rejected')).length, 1);
    });
  }

  test('a replayed response, and a spent challenge, are refused', async () => {
    const { app, authenticator } = await withPasskey();
    const options = await requestOptions(app);
    const response = authenticator.get(options);
    assert.equal((await sendLogin(app, response)).statusCode, 200);
    assert.equal((await sendLogin(app, response)).statusCode, 401);
    // A new signature over the same challenge: the challenge is spent.
    assert.equal((await sendLogin(app, authenticator.get(options))).statusCode, 401);
  });

  test('an expired challenge is refused', async () => {
    const { service, app, authenticator } = await withPasskey();
    const options = await requestOptions(app);
    service.clock.advanceSeconds(5 * 60 + 1);
    const login = await sendLogin(app, authenticator.get(options));
    assert.equal(login.statusCode, 401);
    assert.equal(login.json<{ code: string }>().code, 'passkey_rejected');
  });

  test('a counter that went backwards is refused and logged as a possible clone', async () => {
    const { service, app, authenticator } = await withPasskey();
    assert.equal((await logInWithPasskey(app, authenticator, { counter: 5 })).statusCode, 200);
    for (const counter of [5, 3]) {
      const login = await logInWithPasskey(app, authenticator, { counter });
      assert.equal(login.statusCode, 401, login.body);
    }
    const rejected = await service.admin.events({ type: 'passkey_rejected', limit: 10 });
    await service.auth.drain();
    const written = await service.admin.events({ type: 'passkey_rejected', limit: 10 });
    assert.ok(rejected.length <= written.length);
    assert.deepEqual(
      written.map((event) => event.email),
      [EMAIL, EMAIL],
    );
    assert.ok(service.logs.some((line) => /possibly a cloned authenticator/.test(line)));
    assert.equal((await logInWithPasskey(app, authenticator, { counter: 6 })).statusCode, 200);
  });

  test('an authenticator that does not count (always 0) logs in again and again', async () => {
    const service = await startTestService();
    const session = await signUpAndLogIn(service.app, EMAIL, PASSWORD);
    const authenticator = new SoftAuthenticator(TEST_ORIGIN, false);
    await addPasskey(service.app, session, { authenticator });
    for (let round = 0; round < 2; round += 1) {
      assert.equal((await logInWithPasskey(service.app, authenticator)).statusCode, 200);
    }
  });

  test('refused passkeys count toward the client’s login rate limit', async () => {
    const { app, authenticator } = await withPasskey({
      RATE_LIMIT: 'on',
      RATE_LIMIT_LOGIN: '3/300',
    });
    // One login made the session; two refused passkeys spend the rest (their options do not:
    // the login page asks for them at every view).
    for (let view = 0; view < 4; view += 1) await requestOptions(app);
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const login = await logInWithPasskey(app, authenticator, { badSignature: true });
      assert.equal(login.statusCode, 401);
    }
    const password = await submit(app, 'POST', '/sessions', { email: EMAIL, password: PASSWORD });
    assert.equal(password.statusCode, 429);
  });

  test('login options have a budget of their own per client (RATE_LIMIT_PASSKEY_OPTIONS)', async () => {
    const { app } = await startTestService({
      RATE_LIMIT: 'on',
      RATE_LIMIT_PASSKEY_OPTIONS: '3/300',
    });
    const ask = () => app.inject({ method: 'POST', url: '/sessions/passkey/options' });
    for (let view = 0; view < 3; view += 1) assert.equal((await ask()).statusCode, 200);
    const over = await ask();
    assert.equal(over.statusCode, 429, over.body);
    assert.equal(over.json<{ code: string }>().code, 'rate_limited');
  });

  test('with two-factor on, a passkey without user verification still asks for the code', async () => {
    const { service, app, session, authenticator } = await withPasskey();
    const begun = await service.auth.twoFactor.beginEnrolment(session, PASSWORD);
    if (typeof begun === 'string') throw new Error(begun);
    const confirmed = await service.auth.twoFactor.confirmEnrolment(
      session,
      totpCodeAt(begun.secret, service.clock.now()),
    );
    assert.notEqual(typeof confirmed, 'string');
    const weak = await logInWithPasskey(app, authenticator, { userVerified: false });
    assert.equal(weak.statusCode, 401);
    assert.equal(weak.json<{ code: string }>().code, 'second_factor_required');
    assert.equal(sessionCookie(weak), undefined);
    assert.ok(weak.cookies.some((cookie) => cookie.name === 'bienvenue_2fa'));
    const strong = await logInWithPasskey(app, authenticator);
    assert.equal(strong.statusCode, 200, strong.body);
  });
});

describe('passkeys: removing', () => {
  test('a passkey removed no longer logs in, and its holder is emailed', async () => {
    const { service, app, session, authenticator } = await withPasskey();
    const [passkey] = (await listed(app, session)).json<{ passkeys: { id: string }[] }>().passkeys;
    const removed = await app.inject({
      method: 'DELETE',
      url: `/profile/passkeys/${passkey?.id ?? ''}`,
      cookies: { session_id: session },
    });
    assert.equal(removed.statusCode, 200, removed.body);
    assert.equal((await listed(app, session)).json<{ passkeys: [] }>().passkeys.length, 0);
    assert.equal((await logInWithPasskey(app, authenticator)).statusCode, 401);
    await service.auth.drain();
    assert.ok(service.mailer.sent.some((mail) => /passkey was removed/.test(mail.subject)));
    assert.equal((await events(service, 'passkey_removed')).length, 1);
  });

  test('another account’s passkey cannot be removed: 404, and it stays', async () => {
    const { app, session, authenticator } = await withPasskey();
    const [passkey] = (await listed(app, session)).json<{ passkeys: { id: string }[] }>().passkeys;
    const other = await signUpAndLogIn(app, 'carol@example.com', PASSWORD);
    for (const id of [passkey?.id ?? '', 'no-such-id']) {
      const answer = await app.inject({
        method: 'DELETE',
        url: `/profile/passkeys/${id}`,
        cookies: { session_id: other },
      });
      assert.equal(answer.statusCode, 404);
      assert.equal(answer.json<{ code: string }>().code, 'not_found');
    }
    assert.equal((await listed(app, session)).json<{ passkeys: [] }>().passkeys.length, 1);
    assert.equal((await logInWithPasskey(app, authenticator)).statusCode, 200);
  });

  test('deleting the account deletes its passkeys and challenges', async () => {
    const { service, database } = await startWithDatabase();
    const { app } = service;
    const session = await signUpAndLogIn(app, EMAIL, PASSWORD);
    const { authenticator } = await addPasskey(app, session);
    await creationOptions(app, session);
    const rows = async () => ({
      passkeys: (await database.kysely.selectFrom('passkeys').selectAll().execute()).length,
      challenges: (
        await database.kysely
          .selectFrom('webauthn_challenges')
          .selectAll()
          .where('user_id', 'is not', null)
          .execute()
      ).length,
    });
    assert.deepEqual(await rows(), { passkeys: 1, challenges: 1 });
    const deleted = await app.inject({
      method: 'DELETE',
      url: '/profile',
      cookies: { session_id: session },
      ...json({ password: PASSWORD }),
    });
    assert.equal(deleted.statusCode, 200, deleted.body);
    assert.deepEqual(await rows(), { passkeys: 0, challenges: 0 });
    assert.equal((await logInWithPasskey(app, authenticator)).statusCode, 401);
  });
});

describe('passkeys: proven addresses', () => {
  test('a passkey is added only once the address is proven (unless EMAIL_VERIFICATION=off)', async () => {
    const { service, database } = await startWithDatabase({
      env: { EMAIL_VERIFICATION: 'optional' },
    });
    const { app } = service;
    const session = await signUpAndLogIn(app, EMAIL, PASSWORD);
    const refused = await app.inject({
      method: 'POST',
      url: '/profile/passkeys/options',
      cookies: { session_id: session },
    });
    assert.equal(refused.statusCode, 403, refused.body);
    assert.equal(refused.json<{ code: string }>().code, 'email_not_verified');
    const challenges = await database.kysely
      .selectFrom('webauthn_challenges')
      .selectAll()
      .execute();
    assert.equal(challenges.length, 0, 'no challenge was issued');

    await database.kysely.updateTable('users').set({ email_verified_at: Date.now() }).execute();
    const { answer } = await addPasskey(app, session);
    assert.equal(answer.statusCode, 200, answer.body);
  });

  test('with EMAIL_VERIFICATION=required, an unverified account’s passkey opens no session', async () => {
    const { service, database } = await startWithDatabase({
      env: { EMAIL_VERIFICATION: 'required' },
    });
    const { app } = service;
    const setVerified = (at: number | null) =>
      database.kysely.updateTable('users').set({ email_verified_at: at }).execute();
    const signUp = await submit(app, 'POST', '/users', { email: EMAIL, password: PASSWORD });
    assert.equal(signUp.statusCode, 200, signUp.body);
    await setVerified(Date.now());
    const login = await submit(app, 'POST', '/sessions', { email: EMAIL, password: PASSWORD });
    const session = sessionCookie(login);
    assert.ok(session, login.body);
    const { authenticator } = await addPasskey(app, session);
    assert.equal((await logInWithPasskey(app, authenticator)).statusCode, 200);

    await setVerified(null);
    const refused = await logInWithPasskey(app, authenticator);
    assert.equal(refused.statusCode, 403, refused.body);
    assert.equal(refused.json<{ code: string }>().code, 'email_not_verified');
    assert.equal(sessionCookie(refused), undefined);
  });
});

describe('passkeys: passkey-only accounts', () => {
  test('the password is removed once a passkey exists; reset by email sets one again', async () => {
    const { service, app, session, authenticator } = await withPasskey({
      RESET_TOKEN_IN_RESPONSE: 'on',
    });
    const removed = await removePassword(app, session);
    assert.equal(removed.statusCode, 200, removed.body);
    const again = await app.inject({
      method: 'DELETE',
      url: '/profile/password',
      cookies: { session_id: session },
    });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json<{ code: string }>().code, 'no_password');
    // The old password no longer works; refused like any wrong password, never a 500.
    const withPassword = await submit(app, 'POST', '/sessions', {
      email: EMAIL,
      password: PASSWORD,
    });
    assert.equal(withPassword.statusCode, 401);
    assert.equal(withPassword.json<{ code: string }>().code, 'invalid_credentials');
    assert.equal((await logInWithPasskey(app, authenticator)).statusCode, 200);
    // A reset by email sets a password again.
    const token = (await submit(app, 'POST', '/reset_password', { email: EMAIL })).json<{
      reset_token: string;
    }>().reset_token;
    const reset = await submit(app, 'PUT', '/reset_password', {
      email: EMAIL,
      reset_token: token,
      new_password: 'a new password here',
    });
    assert.equal(reset.statusCode, 200, reset.body);
    const login = await submit(app, 'POST', '/sessions', {
      email: EMAIL,
      password: 'a new password here',
    });
    assert.equal(login.statusCode, 200, login.body);
    assert.equal((await events(service, 'password_removed')).length, 1);
  });

  test('a passkey-only account is deleted, or its address changed, after a recent login only; one with a password needs it', async () => {
    const { service, app, session, authenticator } = await withPasskey();
    const deleteProfile = (cookie: string, body: Record<string, string>) =>
      app.inject({
        method: 'DELETE',
        url: '/profile',
        cookies: { session_id: cookie },
        ...json(body),
      });
    // With its password still, the account needs it: leaving it out is a missing field.
    const without = await deleteProfile(session, {});
    assert.equal(without.statusCode, 400, without.body);
    assert.equal(without.json<{ code: string }>().code, 'missing_field');
    const withoutForEmail = await app.inject({
      method: 'PUT',
      url: '/profile/email',
      cookies: { session_id: session },
      ...json({ new_email: 'moved@example.com' }),
    });
    assert.equal(withoutForEmail.statusCode, 400, withoutForEmail.body);
    assert.equal(withoutForEmail.json<{ code: string }>().code, 'missing_field');
    const removed = await removePassword(app, session);
    assert.equal(removed.statusCode, 200, removed.body);
    service.clock.advanceSeconds(11 * 60);
    // An older session deletes nothing, whatever password it gives.
    for (const body of [{}, { password: PASSWORD }] as Record<string, string>[]) {
      const stale = await deleteProfile(session, body);
      assert.equal(stale.statusCode, 403, stale.body);
      assert.equal(stale.json<{ code: string }>().code, 'recent_login_required');
    }
    // The address too: asked for from an older session, nothing is sent.
    const changeEmail = (cookie: string) =>
      app.inject({
        method: 'PUT',
        url: '/profile/email',
        cookies: { session_id: cookie },
        ...json({ new_email: 'moved@example.com' }),
      });
    const staleChange = await changeEmail(session);
    assert.equal(staleChange.statusCode, 403, staleChange.body);
    assert.equal(staleChange.json<{ code: string }>().code, 'recent_login_required');
    assert.equal((await events(service, 'email_change_requested')).length, 0);
    const login = await logInWithPasskey(app, authenticator);
    assert.equal(login.statusCode, 200, login.body);
    const fresh = sessionCookie(login) ?? '';
    const changed = await changeEmail(fresh);
    assert.equal(changed.statusCode, 200, changed.body);
    assert.equal((await events(service, 'email_change_requested')).length, 1);
    const deleted = await deleteProfile(fresh, {});
    assert.equal(deleted.statusCode, 200, deleted.body);
    assert.deepEqual(deleted.json(), { email: EMAIL, message: 'account deleted' });
    assert.equal((await logInWithPasskey(app, authenticator)).statusCode, 401);
    assert.equal((await events(service, 'account_deleted')).length, 1);
  });

  test('without a passkey the password stays; an old session needs the password', async () => {
    const service = await startTestService();
    const session = await signUpAndLogIn(service.app, EMAIL, PASSWORD);
    const refused = await service.app.inject({
      method: 'DELETE',
      url: '/profile/password',
      cookies: { session_id: session },
    });
    assert.equal(refused.statusCode, 409);
    assert.equal(refused.json<{ code: string }>().code, 'passkey_required');
    await addPasskey(service.app, session);
    service.clock.advanceSeconds(11 * 60);
    const stale = await service.app.inject({
      method: 'DELETE',
      url: '/profile/password',
      cookies: { session_id: session },
    });
    assert.equal(stale.statusCode, 403);
    assert.equal(stale.json<{ code: string }>().code, 'recent_login_required');
    const login = await submit(service.app, 'POST', '/sessions', {
      email: EMAIL,
      password: PASSWORD,
    });
    assert.equal(login.statusCode, 200);
  });
});

describe('passkeys and forward auth', () => {
  test('Remote-Auth says passkey, and a second_factor rule accepts it but not without UV', async () => {
    const path = rulesFile(
      'rules:\n  - host: admin.example.test\n    policy: logged_in\n    second_factor: true\n',
    );
    const { app, authenticator } = await withPasskey({ ACCESS_RULES_FILE: path });
    const forward = (session: string) => askForward(app, 'admin.example.test', session);
    const strong = sessionCookie(await logInWithPasskey(app, authenticator)) ?? '';
    const passed = await forward(strong);
    assert.equal(passed.statusCode, 200, passed.body);
    assert.equal(passed.headers['remote-auth'], 'passkey');
    const weak =
      sessionCookie(await logInWithPasskey(app, authenticator, { userVerified: false })) ?? '';
    const refused = await forward(weak);
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.json<{ code: string }>().code, 'second_factor_required');
    const password = sessionCookie(
      await submit(app, 'POST', '/sessions', { email: EMAIL, password: PASSWORD }),
    );
    assert.equal((await forward(password ?? '')).statusCode, 403);
  });
});
