/**
 * At the most verbose log level, a whole user journey leaves no secret in the logs: no password
 * (right, wrong or new), no session id, no reset token, while the journey is logged indeed.
 *
 * The client behaves like a browser: once it holds a session cookie it sends it with every
 * request, and it sends forms urlencoded, as multipart or as JSON. The secrets are made of
 * letters, digits and hyphens only, so they read the same raw, percent-encoded or JSON-escaped,
 * and a plain substring search finds them in any of those forms.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { form, sessionCookie, startTestService } from '../support/service.js';

const EMAIL = 'alice@example.com';
const PASSWORD = 'Old-Secret-7f3a9c2e';
const WRONG_PASSWORD = 'Wrong-Guess-51b2d4e6';
const NEW_PASSWORD = 'New-Secret-c0ffee42';

const json = (fields: Record<string, string>) => ({
  headers: { 'content-type': 'application/json' },
  payload: JSON.stringify(fields),
});

function multipart(fields: Record<string, string>) {
  const boundary = 'bienvenue-logging-test';
  const lines = Object.entries(fields).flatMap(([name, value]) => [
    `--${boundary}`,
    `Content-Disposition: form-data; name="${name}"`,
    '',
    value,
  ]);
  return {
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    payload: [...lines, `--${boundary}--`, ''].join('\r\n'),
  };
}

const service = await startTestService({ LOG_LEVEL: 'trace' });
/** Every answer of the journey, in order. */
const responses: LightMyRequestResponse[] = [];
const sessionIds: string[] = [];
const resetTokens: string[] = [];

/** The session id the browser holds, sent with every request. */
let cookieJar: string | undefined;

/** Sends a request as a browser would, with the session cookie it holds, if any. */
async function send(
  request: InjectOptions,
  expectedStatus: number,
): Promise<LightMyRequestResponse> {
  const response = await service.app.inject({
    ...request,
    ...(cookieJar === undefined ? {} : { cookies: { session_id: cookieJar } }),
  });
  const what = JSON.stringify({ method: request.method, url: request.url });
  assert.equal(response.statusCode, expectedStatus, `${what}: ${response.body}`);
  responses.push(response);
  // A new session id is kept and sent from now on; an emptied cookie (logout) is dropped.
  const sessionId = sessionCookie(response);
  if (sessionId === '') cookieJar = undefined;
  else if (sessionId !== undefined) {
    cookieJar = sessionId;
    sessionIds.push(sessionId);
  }
  return response;
}

/** The link of the last reset email, once background work is done, and its token. */
async function lastResetLink(): Promise<{ path: string; token: string }> {
  await service.auth.drain();
  const text = service.mailer.sent.at(-1)?.text ?? '';
  const link = /https?:\/\/\S+/.exec(text)?.[0];
  assert.ok(link !== undefined, `no link in the email: ${text}`);
  const url = new URL(link);
  const token = url.searchParams.get('token');
  assert.ok(token !== null && token !== '', `no token in ${link}`);
  resetTokens.push(token);
  return { path: `${url.pathname}${url.search}`, token };
}

before(async () => {
  await send({ method: 'POST', url: '/users', ...form({ email: EMAIL, password: PASSWORD }) }, 200);
  await send(
    { method: 'POST', url: '/sessions', ...json({ email: EMAIL, password: WRONG_PASSWORD }) },
    401,
  );
  await send(
    { method: 'POST', url: '/sessions', ...form({ email: EMAIL, password: PASSWORD }) },
    200,
  );
  await send({ method: 'GET', url: '/profile' }, 200);
  await send({ method: 'DELETE', url: '/sessions' }, 302);
  assert.equal(cookieJar, undefined, 'logout clears the session cookie');

  await send({ method: 'POST', url: '/reset_password', ...form({ email: EMAIL }) }, 200);
  const firstLink = await lastResetLink();
  // Following the emailed link: the request is logged, its token must not be.
  await send({ method: 'GET', url: firstLink.path }, 200);
  await send(
    {
      method: 'PUT',
      url: '/reset_password',
      ...json({ email: EMAIL, reset_token: firstLink.token, new_password: NEW_PASSWORD }),
    },
    200,
  );
  await send(
    { method: 'POST', url: '/sessions', ...multipart({ email: EMAIL, password: NEW_PASSWORD }) },
    200,
  );

  // Logged in again: the browser sends its cookie along with a multipart form, then logs out.
  await send({ method: 'GET', url: '/profile' }, 200);
  await send({ method: 'POST', url: '/reset_password', ...multipart({ email: EMAIL }) }, 200);
  await lastResetLink();
  await send({ method: 'DELETE', url: '/sessions' }, 302);
});

/** The log lines that contain `secret`. */
const linesWith = (secret: string): string[] =>
  service.logs.filter((line) => line.includes(secret));

test('the journey ran at trace level and every request was logged with its request id', () => {
  assert.equal(service.app.log.level, 'trace');
  assert.equal(sessionIds.length, 2, 'two logins set a session cookie');
  assert.equal(resetTokens.length, 2, 'two reset emails were sent');
  const entries = service.logs
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as { msg?: string; reqId?: string });
  const completed = entries.filter((entry) => entry.msg === 'request completed');
  const incoming = entries.filter((entry) => entry.msg === 'incoming request');
  assert.equal(completed.length, responses.length);
  assert.equal(incoming.length, responses.length);
  for (const response of responses) {
    const requestId = response.headers['x-request-id'];
    assert.ok(
      completed.some((entry) => entry.reqId === requestId),
      `no 'request completed' line for request ${String(requestId)}`,
    );
  }
});

test('no log line contains a password: the first, a wrong guess or the new one', () => {
  for (const password of [PASSWORD, WRONG_PASSWORD, NEW_PASSWORD]) {
    assert.deepEqual(linesWith(password), [], `password ${password} is in the logs`);
  }
});

test('no log line contains a session id cookie value', () => {
  assert.ok(sessionIds.length > 0);
  for (const sessionId of sessionIds) {
    assert.deepEqual(linesWith(sessionId), [], `session id ${sessionId} is in the logs`);
  }
});

test('no log line contains a reset token, not even the emailed link', () => {
  assert.ok(resetTokens.length > 0);
  for (const token of resetTokens) {
    assert.deepEqual(linesWith(token), [], `reset token ${token} is in the logs`);
  }
});
