/**
 * Parallel guesses against the per-email throttle: every password check (a login, or the current
 * password of a change or a deletion, from the API or a page) is counted before it runs, so a
 * burst gets no more than LOGIN_THROTTLE_AFTER checks, and checks still in flight count against
 * any attempt that arrives meanwhile, the right password included.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { CountingHasher, GatedHasher } from '../support/fakes.js';
import { form, signUpAndLogIn, startTestService } from '../support/service.js';

const EMAIL = 'bob@example.com';
const PASSWORD = 'correct horse';
const AFTER = 4;
/** Throttling on; per-client limits high enough to stay out of the way. */
const THROTTLED = {
  RATE_LIMIT: 'on',
  LOGIN_THROTTLE_AFTER: String(AFTER),
  RATE_LIMIT_LOGIN: '1000/60',
  RATE_LIMIT_SIGNUP: '1000/60',
  RATE_LIMIT_ACCOUNT: '1000/60',
  // As many checks at once as the throttle lets through, so all of them reach the hasher.
  HASH_CONCURRENCY: String(AFTER),
};
const ADDRESSES = ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4'];

const logIn = (app: FastifyInstance, password: string, remoteAddress = '127.0.0.1') =>
  app.inject({
    method: 'POST',
    url: '/sessions',
    remoteAddress,
    ...form({ email: EMAIL, password }),
  });

const statusCounts = (answers: readonly LightMyRequestResponse[]) => {
  const counts: Record<number, number> = {};
  for (const { statusCode } of answers) counts[statusCode] = (counts[statusCode] ?? 0) + 1;
  return counts;
};

function assertThrottled(answer: LightMyRequestResponse): void {
  assert.equal(answer.statusCode, 429);
  assert.ok(Number(answer.headers['retry-after']) >= 1);
  assert.equal(answer.json<{ code: string }>().code, 'too_many_attempts');
}

describe('parallel login guesses', () => {
  test('30 parallel wrong passwords from one client: 429s, and no more than LOGIN_THROTTLE_AFTER checks', async () => {
    const hasher = new CountingHasher();
    const { app } = await startTestService(THROTTLED, { hasher });
    await signUpAndLogIn(app, EMAIL, PASSWORD);
    const before = hasher.verifications.length;
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => logIn(app, `wrong ${i}`)),
    );
    assert.deepEqual(statusCounts(answers), { 401: AFTER, 429: 30 - AFTER });
    for (const answer of answers.filter(({ statusCode }) => statusCode === 429)) {
      assertThrottled(answer);
    }
    assert.ok(hasher.verifications.length - before <= AFTER);
  });

  test('an unknown email is counted exactly like a real one under a parallel burst', async () => {
    const hasher = new CountingHasher();
    const { app } = await startTestService(THROTTLED, { hasher });
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        app.inject({
          method: 'POST',
          url: '/sessions',
          ...form({ email: 'nobody@example.com', password: `wrong ${i}` }),
        }),
      ),
    );
    assert.deepEqual(statusCounts(answers), { 401: AFTER, 429: 30 - AFTER });
    assert.ok(hasher.verifications.length <= AFTER);
  });

  test('100 parallel attempts from four addresses: the right password does not log in once the threshold is reached before it', async () => {
    const gated = new GatedHasher();
    const { app: held } = await startTestService(THROTTLED, { hasher: gated });
    // A sign-up only hashes: no check is held yet, and nothing is counted.
    const signUp = await held.inject({
      method: 'POST',
      url: '/users',
      ...form({ email: EMAIL, password: PASSWORD }),
    });
    assert.equal(signUp.statusCode, 200);

    const wrong = Array.from({ length: 99 }, (_, i) =>
      logIn(held, `wrong ${i}`, ADDRESSES[i % ADDRESSES.length]),
    );
    // The first LOGIN_THROTTLE_AFTER guesses are being checked, still unproven…
    await gated.untilHeld(AFTER);
    // …when the right password arrives.
    const right = logIn(held, PASSWORD, ADDRESSES[3]);
    // Once it is answered (or it never will be while checks are held: the bug), let them finish.
    await Promise.race([right, new Promise((done) => setTimeout(done, 1000))]);
    gated.open();
    const answers = [...(await Promise.all(wrong)), await right];
    assertThrottled(await right);
    assert.equal(answers.filter((answer) => answer.statusCode === 200).length, 0);
    assert.deepEqual(statusCounts(answers), { 401: AFTER, 429: 100 - AFTER });
    assert.equal(gated.verifications.length, AFTER);
  });
});

describe('parallel guesses at the current password', () => {
  const page = { origin: 'http://auth.test' };
  const doors: {
    name: string;
    send: (
      app: FastifyInstance,
      sessionId: string,
      guess: string,
    ) => Promise<LightMyRequestResponse>;
  }[] = [
    {
      name: 'PUT /profile/password',
      send: (app, sessionId, guess) =>
        app.inject({
          method: 'PUT',
          url: '/profile/password',
          cookies: { session_id: sessionId },
          ...form({ current_password: guess, new_password: 'a brand new password' }),
        }),
    },
    {
      name: 'DELETE /profile',
      send: (app, sessionId, guess) =>
        app.inject({
          method: 'DELETE',
          url: '/profile',
          cookies: { session_id: sessionId },
          ...form({ password: guess }),
        }),
    },
    {
      name: 'the account page: change password',
      send: (app, sessionId, guess) => {
        const body = form({ current_password: guess, new_password: 'a brand new password' });
        return app.inject({
          method: 'POST',
          url: '/account/password',
          cookies: { session_id: sessionId },
          payload: body.payload,
          headers: { ...body.headers, ...page },
        });
      },
    },
    {
      name: 'the account page: delete account',
      send: (app, sessionId, guess) => {
        const body = form({ password: guess });
        return app.inject({
          method: 'POST',
          url: '/account/delete',
          cookies: { session_id: sessionId },
          payload: body.payload,
          headers: { ...body.headers, ...page },
        });
      },
    },
  ];

  for (const door of doors) {
    test(`${door.name}: 30 parallel wrong current passwords get 429s after LOGIN_THROTTLE_AFTER checks; nothing changes`, async () => {
      const hasher = new CountingHasher();
      const { app, clock } = await startTestService(THROTTLED, { hasher });
      const sessionId = await signUpAndLogIn(app, EMAIL, PASSWORD);
      const before = hasher.verifications.length;
      const answers = await Promise.all(
        Array.from({ length: 30 }, (_, i) => door.send(app, sessionId, `wrong ${i}`)),
      );
      assert.deepEqual(statusCounts(answers), { 401: AFTER, 429: 30 - AFTER });
      assert.ok(hasher.verifications.length - before <= AFTER);
      // The right password is refused too while the block lasts, without a check.
      assert.equal((await door.send(app, sessionId, PASSWORD)).statusCode, 429);
      assert.equal(hasher.verifications.length - before, AFTER);
      // The account, its password and its session are as they were.
      const profile = await app.inject({
        method: 'GET',
        url: '/profile',
        cookies: { session_id: sessionId },
      });
      assert.equal(profile.statusCode, 200);
      clock.advanceSeconds(3600);
      assert.equal((await logIn(app, PASSWORD)).statusCode, 200);
    });
  }
});

describe('a full hashing queue', () => {
  test('logins beyond the queue answer 503 with Retry-After and code busy, at once; the others are served', async () => {
    const gated = new GatedHasher();
    // One check at a time, so HASH_QUEUE_PER_SLOT (16) may wait; throttling off.
    const { app } = await startTestService({ HASH_CONCURRENCY: '1' }, { hasher: gated });
    const answered: LightMyRequestResponse[] = [];
    const attempts = Array.from({ length: 40 }, (_, i) =>
      app
        .inject({
          method: 'POST',
          url: '/sessions',
          ...form({ email: `user${i}@example.com`, password: 'some password' }),
        })
        .then((answer) => {
          answered.push(answer);
          return answer;
        }),
    );
    // 1 check held at the gate and 16 waiting: the other 23 are answered while they wait.
    await gated.untilHeld(1);
    const busyAnswered = new Promise<void>((done) => {
      const poll = () => (answered.length >= 23 ? done() : setImmediate(poll));
      poll();
    });
    // (Or, where the queue has no bound, none would be answered until the gate opens.)
    await Promise.race([busyAnswered, new Promise((done) => setTimeout(done, 2000))]);
    const busy = answered.filter((answer) => answer.statusCode === 503);
    gated.open();
    const answers = await Promise.all(attempts);
    assert.equal(busy.length, 23);
    assert.deepEqual(statusCounts(answers), { 401: 17, 503: 23 });
    for (const answer of busy) {
      assert.equal(answer.headers['retry-after'], '2');
      assert.equal(answer.json<{ code: string }>().code, 'busy');
    }
    assert.equal(gated.verifications.length, 17);
  });
});
