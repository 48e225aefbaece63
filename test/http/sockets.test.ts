/**
 * What Node's HTTP parser refuses, over real sockets to the real process: requests that never
 * arrive in full are answered 408 and closed within REQUEST_TIMEOUT; malformed requests get 400,
 * oversized headers 431; each such answer carries the service's headers and a JSON body with a
 * `code`; and at trace level none of the refused bytes (a password, a cookie) reach the log.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startIsolatedServer } from '../support/process.js';
import { exchange, waitFor, type RawAnswer } from '../support/raw-http.js';

const server = await startIsolatedServer({
  REQUEST_TIMEOUT: '1',
  LOG_LEVEL: 'trace',
  BCRYPT_ROUNDS: '4',
});

/** An answer with every header the service promises, and a JSON body with `code`. */
function assertServiceAnswer(answer: RawAnswer, status: number, code: string): void {
  assert.equal(answer.status, status, JSON.stringify(answer));
  assert.equal(answer.headers['cache-control'], 'no-store');
  assert.equal(answer.headers['x-content-type-options'], 'nosniff');
  assert.match(answer.headers['content-type'] ?? '', /^application\/json\b/);
  const requestId = answer.headers['x-request-id'] ?? '';
  assert.match(requestId, /^[0-9a-f-]{36}$/);
  const body = JSON.parse(answer.body) as Record<string, unknown>;
  assert.equal(body.code, code);
  assert.equal(typeof body.message, 'string');
  assert.equal(body.requestId, requestId);
}

test('a request whose body never ends is answered 408 and closed within REQUEST_TIMEOUT', async () => {
  const answer = await exchange(
    server.port,
    'POST /users HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
      'Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nemail=sta',
  );
  assertServiceAnswer(answer, 408, 'request_timeout');
});

test('a request whose headers never end is answered 408 and closed within REQUEST_TIMEOUT', async () => {
  const answer = await exchange(server.port, 'GET /profile HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Sl');
  assertServiceAnswer(answer, 408, 'request_timeout');
});

test('a malformed request is answered 400 with the usual headers and a JSON code', async () => {
  const answer = await exchange(
    server.port,
    'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header: yes\r\n\r\n',
  );
  assertServiceAnswer(answer, 400, 'bad_request');
});

test('headers over 16 KiB are answered 431 with the usual headers and a JSON code', async () => {
  const answer = await exchange(
    server.port,
    `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ${'a'.repeat(20 * 1024)}\r\n\r\n`,
  );
  assertServiceAnswer(answer, 431, 'request_header_fields_too_large');
});

test('at LOG_LEVEL=trace a malformed request leaves neither its password nor its cookie in the log', async () => {
  const password = 'Parser-Secret-9d8e7f6a';
  const cookie = 'cookie-secret-1a2b3c4d';
  const body = `email=alice%40example.com&password=${password}`;
  // Sent in one piece, so the bytes the parser holds when it fails include the body.
  const answer = await exchange(
    server.port,
    'POST /sessions HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
      `Cookie: session_id=${cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\n` +
      `Content-Length: ${body.length}\r\nBad Header: yes\r\n\r\n${body}`,
  );
  assert.equal(answer.status, 400);
  // The refusal is logged (the line is the one to search) …
  await waitFor(
    () => /refused a request|client error/.test(server.output()),
    'the refusal to be logged',
  );
  // … in no form at all: text, or the bytes as numbers (a Buffer in JSON), hex or base64.
  const log = server.output();
  for (const secret of [password, cookie]) {
    const bytes = Buffer.from(secret);
    for (const form of [
      secret,
      Array.from(bytes).join(','),
      bytes.toString('hex'),
      bytes.toString('base64'),
    ]) {
      assert.ok(!log.includes(form), `the log holds ${secret} as ${form}`);
    }
  }
});

test('after all of the above the service still answers', async () => {
  const response = await fetch(`${server.url}/`);
  assert.equal(response.status, 200);
});
