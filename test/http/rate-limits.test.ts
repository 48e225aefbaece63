/**
 * Per-client rate limits count actions, not routes: an action's API route and its page's form
 * share one budget per client address, in memory and in Redis alike, and each action keeps a
 * budget of its own.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { freshRedisPrefix, redisProblem, TEST_REDIS_URL } from '../support/redis.js';
import { form, startTestService } from '../support/service.js';

const LIMIT = 3;
const LIMITED = {
  RATE_LIMIT: 'on',
  RATE_LIMIT_SIGNUP: `${LIMIT}/600`,
  RATE_LIMIT_LOGIN: `${LIMIT}/600`,
  RATE_LIMIT_RESET_REQUEST: `${LIMIT}/600`,
  RATE_LIMIT_RESET: `${LIMIT}/600`,
  RATE_LIMIT_ACCOUNT: `${LIMIT}/600`,
};

interface Door {
  readonly kind: 'api' | 'page';
  send(app: FastifyInstance, from: string, i: number): Promise<LightMyRequestResponse>;
}

/** A request to `url` from `from`, as the API's clients send it or as a page's form posts it. */
const send =
  (method: 'POST' | 'PUT' | 'DELETE', url: string, fields: (i: number) => Record<string, string>) =>
  (kind: 'api' | 'page'): Door => ({
    kind,
    send(app, from, i) {
      const body = form(fields(i));
      return app.inject({
        method,
        url,
        remoteAddress: from,
        payload: body.payload,
        // A page's form post says it comes from our own page, as a browser does.
        headers: { ...body.headers, ...(kind === 'page' && { origin: 'http://auth.test' }) },
      });
    },
  });

const credentials = (i: number) => ({ email: `user${i}@example.com`, password: `password ${i}` });
const reset = (i: number) => ({
  email: `user${i}@example.com`,
  reset_token: crypto.randomUUID(),
  token: crypto.randomUUID(),
  new_password: 'a new password',
});

/** Every limited action and the doors it comes through. */
const ACTIONS: Record<string, Record<string, Door>> = {
  login: {
    'POST /sessions': send('POST', '/sessions', credentials)('api'),
    'POST /login': send('POST', '/login', credentials)('page'),
  },
  'sign-up': {
    'POST /users': send('POST', '/users', credentials)('api'),
    'POST /signup': send('POST', '/signup', credentials)('page'),
  },
  'reset request': {
    'POST /reset_password': send('POST', '/reset_password', credentials)('api'),
    'POST /forgot': send('POST', '/forgot', credentials)('page'),
  },
  reset: {
    'PUT /reset_password': send('PUT', '/reset_password', reset)('api'),
    'POST /reset': send('POST', '/reset', reset)('page'),
  },
  'account actions': {
    'PUT /profile/password': send('PUT', '/profile/password', () => ({
      current_password: 'old password',
      new_password: 'new password',
    }))('api'),
    'DELETE /profile': send('DELETE', '/profile', () => ({ password: 'a password' }))('api'),
    'POST /account/password': send('POST', '/account/password', () => ({
      current_password: 'old password',
      new_password: 'new password',
    }))('page'),
    'POST /account/delete': send('POST', '/account/delete', () => ({ password: 'a password' }))(
      'page',
    ),
    'DELETE /profile/sessions': send('DELETE', '/profile/sessions', () => ({}))('api'),
    'POST /account/sessions/end-others': send('POST', '/account/sessions/end-others', () => ({}))(
      'page',
    ),
    'POST /profile/totp': send('POST', '/profile/totp', () => ({ password: 'a password' }))('api'),
    'DELETE /profile/totp': send('DELETE', '/profile/totp', () => ({
      password: 'a password',
      code: '123456',
    }))('api'),
    'POST /account/totp/disable': send('POST', '/account/totp/disable', () => ({
      password: 'a password',
      code: '123456',
    }))('page'),
  },
};

async function checkSharedBudgets(app: FastifyInstance): Promise<void> {
  let client = 0;
  for (const [action, doors] of Object.entries(ACTIONS)) {
    for (const [spentAt, spend] of Object.entries(doors)) {
      for (const [triedAt, tryIt] of Object.entries(doors)) {
        if (triedAt === spentAt) continue;
        client += 1;
        const from = `198.51.100.${client}`;
        for (let i = 0; i < LIMIT; i += 1) {
          const spent = await spend.send(app, from, client * 10 + i);
          assert.notEqual(spent.statusCode, 429, `${spentAt} ${i + 1} of ${LIMIT}`);
        }
        const refused = await tryIt.send(app, from, client * 10 + LIMIT);
        assert.equal(refused.statusCode, 429, `${action}: ${triedAt} after ${spentAt}'s budget`);
        assert.ok(Number(refused.headers['retry-after']) > 0);
        if (tryIt.kind === 'page') {
          assert.match(String(refused.headers['content-type']), /text\/html/);
        } else {
          assert.equal(refused.json<{ code: string }>().code, 'rate_limited');
        }
      }
    }
  }
  // Each action keeps its own budget: the client that spent its logins may still sign up.
  const signUp = await send('POST', '/users', credentials)('api').send(app, '198.51.100.1', 9999);
  assert.equal(signUp.statusCode, 200);
}

describe('one budget per action, whichever door', () => {
  test('in memory: spending an action at its API route leaves none at its page, and vice versa', async () => {
    const { app } = await startTestService(LIMITED);
    await checkSharedBudgets(app);
  });

  test('in Redis: spending an action at its API route leaves none at its page, and vice versa', async (t: TestContext) => {
    const problem = await redisProblem();
    if (problem !== undefined) {
      assert.notEqual(process.env.CI, 'true', `Redis is required under CI: ${problem}`);
      t.skip(`Redis unreachable at ${TEST_REDIS_URL} (${problem})`);
      return;
    }
    const { app } = await startTestService({
      ...LIMITED,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: freshRedisPrefix(),
    });
    await checkSharedBudgets(app);
  });
});
