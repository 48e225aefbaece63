/**
 * PostgreSQL only: the real server process, talking to its database through a proxy the test
 * controls, survives the database going away. Requests that need the database answer 503 within
 * seconds instead of hanging, `GET /` keeps answering, nothing crashes, service resumes by itself
 * when the database is back, and no acknowledged write is lost.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freshPostgresUrl, TEST_POSTGRES_URL } from '../support/databases.js';
import { formBody, startIsolatedServer } from '../support/process.js';
import { startTcpProxy, type ProxyMode } from '../support/tcp-proxy.js';

/** The real server, reaching a fresh PostgreSQL database through a proxy the test controls. */
async function serverBehindProxy() {
  const target = new URL(TEST_POSTGRES_URL);
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  const databaseUrl = new URL(await freshPostgresUrl());
  databaseUrl.host = `127.0.0.1:${proxy.port}`;
  const server = await startIsolatedServer(
    { BCRYPT_ROUNDS: '4', RATE_LIMIT: 'off' },
    { databaseUrl: databaseUrl.toString() },
  );
  return { proxy, server };
}

/** Longer than the service's connect (3 s) and query (5 s) time-outs, so a hang fails the test. */
const ANSWER_WITHIN_MS = 12_000;

test('a database outage gives fast 503s, then service resumes with no write lost', async () => {
  const { proxy, server } = await serverBehindProxy();
  const request = (path: string, init: RequestInit = {}) =>
    fetch(`${server.url}${path}`, { ...init, signal: AbortSignal.timeout(ANSWER_WITHIN_MS) });
  const post = (path: string, fields: Record<string, string>) =>
    request(path, { method: 'POST', body: formBody(fields) });

  assert.equal(
    (await post('/users', { email: 'ann@example.com', password: 'ann password' })).status,
    200,
  );
  const login = await post('/sessions', { email: 'ann@example.com', password: 'ann password' });
  const cookie = login.headers.get('set-cookie')?.split(';')[0] ?? '';
  const profile = () => request('/profile', { headers: { cookie } });
  assert.equal((await profile()).status, 200);

  // Sign-ups keep coming throughout (a bounded loop, paced); those answered 200 must all exist at
  // the end, and the others must be 503s.
  const acknowledged: string[] = [];
  const refusals: number[] = [];
  const writing = { on: true };
  const writer = (async () => {
    for (let i = 0; writing.on && i < 500; i += 1) {
      const email = `writer${i}@example.com`;
      const response = await post('/users', { email, password: 'writer password' }).catch(
        () => undefined,
      );
      if (response?.status === 200) acknowledged.push(email);
      else refusals.push(response?.status ?? 0);
      await new Promise((done) => setTimeout(done, 25));
    }
  })();
  try {
    await outageAndRecovery();
  } finally {
    writing.on = false;
    await writer;
  }
  assert.deepEqual([...new Set(refusals)], refusals.length > 0 ? [503] : []);
  for (const email of acknowledged) {
    const again = await post('/sessions', { email, password: 'writer password' });
    assert.equal(again.status, 200, `${email} was acknowledged, so it must exist`);
  }
  assert.equal(server.child.exitCode, null);
  assert.match(server.output(), /database unavailable/);

  /** Waits (boundedly) until the writer has had `count` sign-ups acknowledged in all. */
  async function acknowledgedReach(count: number): Promise<void> {
    for (let tries = 0; acknowledged.length < count && tries < 400; tries += 1) {
      await new Promise((done) => setTimeout(done, 50));
    }
    assert.ok(acknowledged.length >= count, `${count} sign-ups acknowledged`);
  }

  async function outageAndRecovery(): Promise<void> {
    await acknowledgedReach(3);
    for (const mode of ['down', 'hang'] satisfies ProxyMode[]) {
      proxy.setMode(mode);
      const unavailable = await profile();
      assert.equal(unavailable.status, 503, `profile while ${mode}`);
      assert.equal(unavailable.headers.get('retry-after'), '5');
      assert.match(((await unavailable.json()) as { message: string }).message, /unavailable/);
      const signUp = await post('/users', {
        email: `new-${mode}@example.com`,
        password: 'x'.repeat(9),
      });
      assert.equal(signUp.status, 503, `sign-up while ${mode}`);
      const logIn = await post('/sessions', { email: 'ann@example.com', password: 'ann password' });
      assert.equal(logIn.status, 503, `login while ${mode}`);
      const home = await request('/');
      assert.equal(home.status, 200, `GET / while ${mode}`);
      assert.equal((await request('/healthz')).status, 200, `/healthz while ${mode}`);
      const ready = await request('/readyz');
      assert.equal(ready.status, 503, `/readyz while ${mode}`);
      assert.match(((await ready.json()) as { message: string }).message, /unreachable/);
      assert.equal(server.child.exitCode, null, 'still running');
    }

    proxy.setMode('up');
    const deadline = Date.now() + 20_000;
    let status = 0;
    while (status !== 200 && Date.now() < deadline) {
      status = (await profile()).status;
      if (status !== 200) await new Promise((done) => setTimeout(done, 250));
    }
    assert.equal(status, 200, 'service resumed without a restart');
    const before = acknowledged.length;
    await acknowledgedReach(before + 3);
  }
});

test('connections cut while requests are in flight give 200 or 503, never a crash or a 500', async () => {
  const { proxy, server } = await serverBehindProxy();
  const signUp = (email: string) =>
    fetch(`${server.url}/users`, {
      method: 'POST',
      body: formBody({ email, password: 'cut password' }),
      signal: AbortSignal.timeout(ANSWER_WITHIN_MS),
    });
  const acknowledged: string[] = [];
  for (let round = 0; round < 20; round += 1) {
    const emails = Array.from({ length: 5 }, (_, i) => `cut${round}-${i}@example.com`);
    const answers = emails.map((email) => signUp(email));
    await new Promise((done) => setTimeout(done, (round * 3) % 25));
    proxy.setMode('down');
    const statuses = await Promise.all(answers.map((answer) => answer.then((r) => r.status)));
    proxy.setMode('up');
    for (const [i, status] of statuses.entries()) {
      assert.ok(status === 200 || status === 503, `round ${round}: ${status}`);
      if (status === 200) acknowledged.push(emails[i] ?? '');
    }
    assert.equal(server.child.exitCode, null, `alive after round ${round}`);
  }
  for (const email of acknowledged) {
    const login = await fetch(`${server.url}/sessions`, {
      method: 'POST',
      body: formBody({ email, password: 'cut password' }),
    });
    assert.equal(login.status, 200, `${email} was acknowledged, so it must exist`);
  }
});
