/**
 * Invitations, on the engine under test: the invited account has no password and cannot log in
 * (refused like a wrong password, at the same cost, never a 500) until its holder sets one with
 * the emailed link, through the reset page; the link lasts INVITE_TTL, not RESET_TOKEN_TTL.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { UserAlreadyExistsError } from '../../src/auth/errors.js';
import { InvitationNotSentError } from '../../src/auth/invitations.js';
import { NO_PASSWORD } from '../../src/auth/passwords.js';
import type { MailMessage, Mailer } from '../../src/mail/mailer.js';
import { inspectableDatabase } from '../support/databases.js';
import { CountingHasher, RecordingMailer } from '../support/fakes.js';
import { form, startTestService } from '../support/service.js';

const EMAIL = 'ivy@example.com';
const PASSWORD = 'lantern orbit staple';
/** Two hours, well past RESET_TOKEN_TTL's default half hour. */
const INVITE_TTL = 7200;

const logIn = (app: FastifyInstance, email: string, password: string) =>
  app.inject({ method: 'POST', url: '/sessions', payload: { email, password } });
/** Completes the emailed link as its page does: POST /reset from our own page. */
const setPassword = (app: FastifyInstance, token: string, password = PASSWORD, email = EMAIL) =>
  app.inject({
    method: 'POST',
    url: '/reset',
    headers: { ...form({}).headers, origin: 'http://auth.test' },
    payload: form({ token, email, new_password: password }).payload,
  });

/** The token of the link in `message`, checked to be the page a reset link opens. */
function tokenOf(message: MailMessage | undefined): string {
  const link = /^http:\/\/auth\.test\/reset_password\?token=([0-9a-f-]{36})$/m.exec(
    message?.text ?? '',
  );
  assert.ok(link, message?.text);
  return link[1] ?? '';
}

describe('inviteUser', () => {
  test('stores the account without a password, with only the digest of an INVITE_TTL token, and emails an invitation', async () => {
    const database = await inspectableDatabase();
    const { auth, mailer, clock } = await startTestService({
      DATABASE_URL: database.url,
      INVITE_TTL: String(INVITE_TTL),
    });
    const account = await auth.inviteUser(' Ivy@Example.com ');
    assert.equal(account.email, EMAIL);
    assert.equal(mailer.sent.length, 1);
    const [message] = mailer.sent;
    assert.ok(message);
    assert.equal(message.to, EMAIL);
    assert.match(message.subject, /invited/i);
    assert.match(message.text, /invited/);
    assert.match(message.text, /within 2 hours/);
    const token = tokenOf(message);
    const [row = {}] = await database.rows(`SELECT * FROM users WHERE id = ${account.id}`);
    assert.equal(row.hashed_password, NO_PASSWORD);
    assert.notEqual(row.reset_token, null);
    assert.notEqual(row.reset_token, token, 'only a digest is stored');
    assert.equal(Number(row.reset_token_expires_at), clock.now() + INVITE_TTL * 1000);
  });

  test('works with sign-up closed and outside the sign-up domains', async () => {
    const { auth, mailer } = await startTestService({
      SIGNUP: 'closed',
      SIGNUP_EMAIL_DOMAINS: 'example.org',
    });
    await auth.inviteUser(EMAIL);
    assert.equal(mailer.sent.length, 1);
  });

  test('an address that has an account is refused and nothing is sent', async () => {
    const { app, auth, mailer } = await startTestService();
    await auth.registerUser('bob@example.com', PASSWORD);
    await auth.inviteUser(EMAIL);
    for (const email of ['BOB@example.com', 'ivy@EXAMPLE.com']) {
      await assert.rejects(auth.inviteUser(email), UserAlreadyExistsError);
    }
    assert.equal(mailer.sent.length, 1);
    // Refused invitations changed nothing: the first link still works, the account's password
    // is still unset, Bob's is his.
    assert.equal((await logIn(app, EMAIL, PASSWORD)).statusCode, 401);
    assert.equal((await setPassword(app, tokenOf(mailer.sent[0]))).statusCode, 303);
    assert.equal((await logIn(app, 'bob@example.com', PASSWORD)).statusCode, 200);
  });

  test('when the email cannot be sent, the account is removed and the invitation can be repeated', async () => {
    let failing = true;
    const recorder = new RecordingMailer();
    const mailer: Mailer = {
      send: (message) =>
        failing ? Promise.reject(new Error('SMTP refused')) : recorder.send(message),
      close: () => undefined,
    };
    const { auth, admin } = await startTestService({}, { mailer });
    await assert.rejects(auth.inviteUser(EMAIL), (error: unknown) => {
      assert.ok(error instanceof InvitationNotSentError);
      assert.match((error.cause as Error).message, /SMTP refused/);
      return true;
    });
    assert.deepEqual(await admin.listUsers({ limit: 10, offset: 0 }), []);
    failing = false;
    await auth.inviteUser(EMAIL);
    assert.equal(recorder.sent.length, 1);
    const invited = await admin.events({ type: 'account_invited', limit: 10 });
    assert.equal(invited.length, 1, 'only the invitation that was sent');
  });
});

describe('an invited account', () => {
  test('cannot log in before its password is set: a wrong password’s answer, one dummy comparison, no 500', async () => {
    const hasher = new CountingHasher();
    const { app, auth, logs } = await startTestService({}, { hasher });
    await auth.inviteUser(EMAIL);
    await auth.registerUser('bob@example.com', PASSWORD);
    const wrong = await logIn(app, 'bob@example.com', 'not the password');
    const before = hasher.verifications.length;
    // Any password, the marker itself included, and an empty-looking one.
    for (const password of [PASSWORD, NO_PASSWORD, 'x']) {
      const response = await logIn(app, EMAIL, password);
      assert.equal(response.statusCode, 401, password);
      const { requestId: _a, ...body } = response.json<{ requestId: string }>();
      const { requestId: _b, ...wrongBody } = wrong.json<{ requestId: string }>();
      assert.deepEqual(body, wrongBody);
    }
    // One bcrypt comparison per attempt, as for a wrong password, never against the marker.
    const compared = hasher.verifications.slice(before);
    assert.equal(compared.length, 3);
    assert.ok(compared.every((hash) => hash.startsWith('$2b$')));
    assert.equal(await auth.validLogin(EMAIL, NO_PASSWORD), false);
    assert.ok(!logs.some((line) => /"level":50/.test(line)), 'nothing logged as an error');
  });

  test('sets its password through the reset page, then logs in; the link works once', async () => {
    const { app, auth, admin, mailer, logs } = await startTestService();
    await auth.inviteUser(EMAIL);
    const token = tokenOf(mailer.sent[0]);
    const page = await app.inject({
      method: 'GET',
      url: `/reset_password?token=${token}`,
      headers: { accept: 'text/html' },
    });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /action="\/reset"/);

    const set = await setPassword(app, token);
    assert.equal(set.statusCode, 303, set.body);
    assert.equal(set.headers.location, '/login?notice=password_reset');
    assert.equal((await logIn(app, EMAIL, PASSWORD)).statusCode, 200);
    assert.equal((await setPassword(app, token, 'another fine password')).statusCode, 403);
    assert.equal((await logIn(app, EMAIL, PASSWORD)).statusCode, 200);

    const types = (await admin.events({ email: EMAIL, limit: 20 })).map((event) => event.type);
    assert.deepEqual(types.reverse(), [
      'account_invited',
      'password_reset_completed',
      'session_started',
      'login_succeeded',
      'session_started',
      'login_succeeded',
    ]);
    assert.ok(!logs.some((line) => /"level":(50|60)/.test(line)), 'nothing logged as an error');
  });

  test('its link lasts INVITE_TTL, not RESET_TOKEN_TTL', async () => {
    const { app, auth, mailer, clock } = await startTestService({
      INVITE_TTL: String(INVITE_TTL),
      RESET_TOKEN_TTL: '1800',
    });
    await auth.inviteUser(EMAIL);
    await auth.inviteUser('late@example.com');
    const [early, late] = mailer.sent.map(tokenOf);
    // Past a reset link's life, within the invitation's: it still works.
    clock.advanceSeconds(INVITE_TTL - 60);
    assert.equal((await setPassword(app, early ?? '')).statusCode, 303);
    assert.equal((await logIn(app, EMAIL, PASSWORD)).statusCode, 200);
    // Past the invitation's life: refused, and the account still has no password.
    clock.advanceSeconds(60);
    const expired = await setPassword(app, late ?? '', PASSWORD, 'late@example.com');
    assert.equal(expired.statusCode, 403);
    assert.match(expired.body, /has expired/);
    assert.equal((await logIn(app, 'late@example.com', PASSWORD)).statusCode, 401);
  });
});
