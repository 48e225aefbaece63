/**
 * A database copied without the service's key, on the engine under test: a service started on it
 * with another key, or with none, can check no code of the factors enrolled under the first (a
 * TOTP code answers 503 `two_factor_unavailable`, a recovery code matches none: never a session),
 * nor open a stored secret; the service with the right key still works.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import { sql } from 'kysely';
import { openDatabase } from '../../src/db/connection.js';
import { freshDatabaseUrl } from '../support/databases.js';
import { temporaryDirectory } from '../support/files.js';
import { sessionCookie, startTestService, submit, type TestService } from '../support/service.js';
import { totpCodeAt } from '../support/totp.js';

const EMAIL = 'bob@example.com';
const PASSWORD = 'correct horse battery';

/** The password, then `code`; returns the second step's answer. */
async function logInWith(service: TestService, code: string) {
  const first = await submit(service.app, 'POST', '/sessions', {
    email: EMAIL,
    password: PASSWORD,
  });
  const challenge = first.cookies.find((cookie) => cookie.name === 'bienvenue_2fa')?.value;
  assert.ok(challenge, first.body);
  return service.app.inject({
    method: 'POST',
    url: '/sessions/second-factor',
    payload: { code },
    cookies: { bienvenue_2fa: challenge },
  });
}

test('a database copied without its key holds no usable TOTP secret', async () => {
  const url = await freshDatabaseUrl({ sqliteFile: join(temporaryDirectory(), 'copied.db') });
  const original = await startTestService({ DATABASE_URL: url }, { secretKey: randomBytes(32) });
  await original.auth.registerUser(EMAIL, PASSWORD);
  const login = await original.auth.login(EMAIL, PASSWORD);
  assert.equal(login.outcome, 'logged_in');
  const pending = await original.auth.twoFactor.beginEnrolment(login.sessionId, PASSWORD);
  assert.ok(typeof pending !== 'string');
  const { clock } = original;
  const confirmed = await original.auth.twoFactor.confirmEnrolment(
    login.sessionId,
    totpCodeAt(pending.secret, clock.now()),
  );
  assert.ok(typeof confirmed !== 'string');

  const reader = openDatabase(url);
  const sealed = await sql<{ secret_sealed: string }>`SELECT secret_sealed FROM two_factor`
    .execute(reader.kysely)
    .finally(() => reader.kysely.destroy());
  const [row] = sealed.rows;
  assert.ok(row);

  for (const secretKey of [randomBytes(32), null]) {
    const copy = await startTestService({ DATABASE_URL: url }, { secretKey, clock });
    const refused = await logInWith(copy, totpCodeAt(pending.secret, clock.now() + 30_000));
    assert.equal(refused.statusCode, 503, refused.body);
    assert.equal(refused.json<{ code: string }>().code, 'two_factor_unavailable');
    assert.equal(sessionCookie(refused), undefined);
    // A recovery code's hash is keyed: under another key it matches none (a wrong code).
    const byRecovery = await logInWith(copy, confirmed.recoveryCodes[0] ?? '');
    assert.deepEqual(
      [byRecovery.statusCode, byRecovery.json<{ code: string }>().code],
      secretKey === null ? [503, 'two_factor_unavailable'] : [401, 'invalid_code'],
    );
    assert.equal(sessionCookie(byRecovery), undefined);
    if (copy.secretBox !== undefined) {
      const box = copy.secretBox;
      assert.throws(() => box.open(row.secret_sealed));
    }
  }

  // With its key, the same code and recovery code still work: nothing was used up.
  const done = await logInWith(original, totpCodeAt(pending.secret, clock.now() + 30_000));
  assert.equal(done.statusCode, 200, done.body);
  const byRecovery = await logInWith(original, confirmed.recoveryCodes[0] ?? '');
  assert.equal(byRecovery.statusCode, 200, byRecovery.body);
});
