/**
 * Malformed requests, black-box through `app.inject()`: each one is answered with the exact 4xx
 * status expected and a JSON body carrying a string `message` (never a 500), and the service keeps
 * serving afterwards.
 *
 * Whatever a case does not spoil holds values the route would accept (a fresh address for
 * sign-up, the right password for login, a live reset token for PUT /reset_password), so that a
 * refusal can only come from the malformation itself.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, test } from 'node:test';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { form, sessionCookie, startTestService } from '../support/service.js';

type Fields = Record<string, string>;
/** What a case sends besides method and URL. */
interface Body {
  readonly headers?: Record<string, string>;
  readonly payload?: string;
}

const service = await startTestService();
const { app } = service;

/** The account that logins and password resets are attempted on. */
const ACCOUNT = { email: 'bob@example.com', password: 'correct horse' } as const;
/** Just above the service's 16 KiB body limit. */
const OVERSIZED = 'x'.repeat(16 * 1024 + 1);

// ---------------------------------------------------------------------------------------------
// Body encodings, including broken ones

const json = (value: unknown): Body => ({
  headers: { 'content-type': 'application/json' },
  payload: JSON.stringify(value),
});

const rawJson = (text: string): Body => ({
  headers: { 'content-type': 'application/json' },
  payload: text,
});

/** An urlencoded body from pairs, so that a name may repeat. */
const urlencoded = (pairs: ReadonlyArray<readonly [string, string]>): Body => ({
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  payload: pairs
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`)
    .join('&'),
});

interface Part {
  readonly name: string;
  readonly value: string;
  readonly filename?: string;
  readonly contentType?: string;
}

const BOUNDARY = 'bienvenue-malformed-test';

function multipartPayload(parts: readonly Part[]): string {
  const lines = parts.flatMap((part) => [
    `--${BOUNDARY}`,
    `Content-Disposition: form-data; name="${part.name}"` +
      (part.filename === undefined ? '' : `; filename="${part.filename}"`),
    ...(part.contentType === undefined ? [] : [`Content-Type: ${part.contentType}`]),
    '',
    part.value,
  ]);
  return [...lines, `--${BOUNDARY}--`, ''].join('\r\n');
}

const multipart = (parts: readonly Part[]): Body => ({
  headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
  payload: multipartPayload(parts),
});

const partsOf = (fields: Fields): Part[] =>
  Object.entries(fields).map(([name, value]) => ({ name, value }));

// ---------------------------------------------------------------------------------------------
// Routes, and the cases each one is put through

interface Route {
  readonly method: 'POST' | 'PUT';
  readonly url: string;
  readonly names: readonly string[];
  /** Field values the route would accept, made afresh for each case. */
  readonly fields: () => Promise<Fields>;
}

/** A token for ACCOUNT as a user gets it: asked for over HTTP, read from the email. */
async function freshResetToken(): Promise<string> {
  const response = await app.inject({
    method: 'POST',
    url: '/reset_password',
    ...form({ email: ACCOUNT.email }),
  });
  assert.equal(response.statusCode, 200, response.body);
  await service.auth.drain();
  const token = /[?&]token=([0-9a-f-]{36})\b/.exec(service.mailer.sent.at(-1)?.text ?? '')?.[1];
  assert.ok(token !== undefined, 'no reset token was emailed');
  return token;
}

let signUps = 0;

const ROUTES: readonly Route[] = [
  {
    method: 'POST',
    url: '/users',
    names: ['email', 'password'],
    fields: () => {
      signUps += 1;
      return Promise.resolve({
        email: `newcomer${signUps}@example.com`,
        password: 'a fine secret',
      });
    },
  },
  {
    method: 'POST',
    url: '/sessions',
    names: ['email', 'password'],
    fields: () => Promise.resolve({ ...ACCOUNT }),
  },
  {
    method: 'POST',
    url: '/reset_password',
    names: ['email'],
    // Not ACCOUNT: a new token for it would replace the one a PUT case holds.
    fields: () => Promise.resolve({ email: 'somebody@example.com' }),
  },
  {
    method: 'PUT',
    url: '/reset_password',
    names: ['email', 'reset_token', 'new_password'],
    fields: async () => ({
      email: ACCOUNT.email,
      reset_token: await freshResetToken(),
      new_password: 'a brand new secret',
    }),
  },
];

interface Case {
  /** What is wrong with the request, as the test name says it. */
  readonly what: string;
  readonly status: number;
  /** The `code` the answer must carry, when the case pins it down. */
  readonly code?: string;
  readonly body: (fields: Fields) => Body;
}

/** JSON text of `fields` with `extra` (raw JSON members, keys possibly repeated) appended. */
const jsonWith = (fields: Fields, extra: string): Body =>
  rawJson(`${JSON.stringify(fields).slice(0, -1)},${extra}}`);

const without = (fields: Fields, name: string): Fields =>
  Object.fromEntries(Object.entries(fields).filter(([key]) => key !== name));

/** Cases spoiling one field. */
function fieldCases(name: string): Case[] {
  const wrongTypes: ReadonlyArray<readonly [string, (value: string) => unknown]> = [
    ['a number', () => 42],
    ['an array', (value) => [value]],
    ['an object', (value) => ({ value })],
    ['null', () => null],
  ];
  return [
    {
      what: `without the ${name} field`,
      status: 400,
      body: (fields) => urlencoded(Object.entries(without(fields, name))),
    },
    {
      what: `with an empty ${name} field`,
      status: 400,
      body: (fields) => urlencoded(Object.entries({ ...fields, [name]: '' })),
    },
    ...wrongTypes.map(([type, make]): Case => ({
      what: `with ${name} as ${type} in JSON`,
      status: 400,
      body: (fields) => json({ ...fields, [name]: make(fields[name] ?? '') }),
    })),
    {
      what: `with the ${name} key repeated in a JSON object`,
      status: 400,
      code: 'duplicate_json_key',
      body: (fields) => jsonWith(fields, `${JSON.stringify(name)}:${JSON.stringify(fields[name])}`),
    },
    {
      what: `with the ${name} key repeated in JSON, once escaped`,
      status: 400,
      code: 'duplicate_json_key',
      body: (fields) => {
        // The field names are ASCII.
        // eslint-disable-next-line @typescript-eslint/no-misused-spread
        const escaped = [...name].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
        return jsonWith(fields, `"${escaped.join('')}":${JSON.stringify(fields[name])}`);
      },
    },
    {
      what: `with a duplicated ${name} field (urlencoded)`,
      status: 400,
      body: (fields) => urlencoded([...Object.entries(fields), [name, fields[name] ?? '']]),
    },
    {
      what: `with a duplicated ${name} field (multipart)`,
      status: 400,
      body: (fields) => multipart([...partsOf(fields), { name, value: fields[name] ?? '' }]),
    },
    {
      // `%A` is a truncated escape and `%E0%A4` an incomplete UTF-8 sequence.
      what: `with invalid percent-encoding in the ${name} field (urlencoded)`,
      status: 400,
      body: (fields) => {
        const body = urlencoded(Object.entries(fields));
        const encodedName = `${encodeURIComponent(name)}=`;
        const payload = (body.payload ?? '')
          .split('&')
          .map((pair) => (pair.startsWith(encodedName) ? `${pair}%E0%A4%A` : pair))
          .join('&');
        return { ...body, payload };
      },
    },
  ];
}

/** Cases spoiling the body as a whole. */
const BODY_CASES: readonly Case[] = [
  { what: 'without a body', status: 400, body: () => ({}) },
  {
    what: 'with an empty JSON body',
    status: 400,
    body: () => rawJson(''),
  },
  {
    what: 'with broken JSON',
    status: 400,
    code: 'malformed_json',
    body: (fields) => rawJson(JSON.stringify(fields).slice(0, -1)),
  },
  { what: 'with a JSON array body', status: 400, body: (fields) => json([fields]) },
  {
    what: 'with a key repeated in a nested JSON object',
    status: 400,
    code: 'duplicate_json_key',
    body: (fields) => jsonWith(fields, '"extra":{"a":1,"b":{"c":"}","c":"{"}}'),
  },
  {
    what: 'with a key repeated in a JSON object inside an array',
    status: 400,
    code: 'duplicate_json_key',
    body: (fields) => jsonWith(fields, '"extra":[1,{"a":[],"a\\"":2,"a":3}]'),
  },
  {
    what: 'with a __proto__ key in JSON',
    status: 400,
    code: 'malformed_json',
    body: (fields) => jsonWith(fields, '"__proto__":{"isAdmin":true}'),
  },
  {
    what: 'with a constructor.prototype key in JSON',
    status: 400,
    code: 'malformed_json',
    body: (fields) => jsonWith(fields, '"constructor":{"prototype":{"isAdmin":true}}'),
  },
  {
    what: 'with a JSON string body',
    status: 400,
    body: (fields) => json(JSON.stringify(fields)),
  },
  { what: 'with a JSON null body', status: 400, body: () => rawJson('null') },
  {
    what: 'with a JSON body over 16 KiB',
    status: 413,
    code: 'body_too_large',
    body: (fields) => json({ ...fields, padding: OVERSIZED }),
  },
  {
    what: 'with an urlencoded body over 16 KiB',
    status: 413,
    body: (fields) => urlencoded([...Object.entries(fields), ['padding', OVERSIZED]]),
  },
  {
    what: 'with a multipart body over 16 KiB',
    status: 413,
    body: (fields) => multipart([...partsOf(fields), { name: 'padding', value: OVERSIZED }]),
  },
  {
    what: 'with a text/plain body',
    status: 415,
    body: (fields) => ({
      headers: { 'content-type': 'text/plain' },
      payload: urlencoded(Object.entries(fields)).payload,
    }),
  },
  {
    what: 'with an application/xml body',
    status: 415,
    body: () => ({
      headers: { 'content-type': 'application/xml' },
      payload: '<user><email>bob@example.com</email></user>',
    }),
  },
  {
    what: 'with a file part in a multipart body',
    status: 400,
    body: (fields) =>
      multipart([
        ...partsOf(fields),
        { name: 'avatar', value: 'GIF89a', filename: 'avatar.gif', contentType: 'image/gif' },
      ]),
  },
  {
    what: 'with truncated multipart data',
    status: 400,
    body: (fields) => {
      const complete = multipart(partsOf(fields));
      return { ...complete, payload: complete.payload?.slice(0, -20) };
    },
  },
  {
    what: 'with a file part cut off before its end',
    status: 400,
    body: (fields) => {
      const complete = multipart([
        ...partsOf(fields),
        { name: 'avatar', value: 'GIF89a'.repeat(20), filename: 'a.gif', contentType: 'image/gif' },
      ]);
      return { ...complete, payload: complete.payload?.slice(0, -30) };
    },
  },
  {
    what: 'with the same field repeated thousands of times',
    status: 413,
    body: () => urlencoded(Array.from({ length: 8000 }, () => ['a', ''] as const)),
  },
  {
    what: 'with more than 16 distinct fields',
    status: 413,
    body: (fields) =>
      urlencoded([
        ...Object.entries(fields),
        ...Array.from({ length: 16 }, (_, i) => [`extra${i}`, 'x'] as const),
      ]),
  },
  {
    what: 'with a multipart content type that has no boundary',
    status: 400,
    body: (fields) => ({
      headers: { 'content-type': 'multipart/form-data' },
      payload: multipartPayload(partsOf(fields)),
    }),
  },
];

// ---------------------------------------------------------------------------------------------
// Assertions

/** A refusal: the exact status, and a JSON object with a string `message` and a snake_case `code`. */
function assertRefusal(response: LightMyRequestResponse, status: number, code?: string): void {
  assert.equal(response.statusCode, status, `answer: ${response.body}`);
  assert.match(String(response.headers['content-type']), /^application\/json\b/);
  let body: unknown;
  try {
    body = JSON.parse(response.body);
  } catch {
    assert.fail(`the body is not JSON: ${response.body}`);
  }
  assert.ok(
    typeof body === 'object' &&
      body !== null &&
      'message' in body &&
      typeof body.message === 'string' &&
      body.message !== '',
    `no message in ${response.body}`,
  );
  const { code: actual } = body as { code?: unknown };
  assert.ok(
    typeof actual === 'string' && /^[a-z][a-z0-9_]*$/.test(actual),
    `no snake_case code in ${response.body}`,
  );
  if (code !== undefined) assert.equal(actual, code);
}

before(async () => {
  const signUp = await app.inject({ method: 'POST', url: '/users', ...form(ACCOUNT) });
  assert.equal(signUp.statusCode, 200, signUp.body);
});

// ---------------------------------------------------------------------------------------------
// The tests

describe('malformed bodies', () => {
  for (const route of ROUTES) {
    const cases = [...route.names.flatMap(fieldCases), ...BODY_CASES];
    for (const { what, status, code, body } of cases) {
      test(`${route.method} ${route.url} ${what} is ${status}`, async () => {
        const response = await app.inject({
          method: route.method,
          url: route.url,
          ...body(await route.fields()),
        });
        assertRefusal(response, status, code);
      });
    }
  }
});

describe('junk session cookies', () => {
  const COOKIES: ReadonlyArray<readonly [string, string | undefined]> = [
    ['no cookie', undefined],
    ['a garbage session_id cookie', 'session_id=%%%<script>\u00ff;;'],
    ['a very long session_id cookie', `session_id=${'a'.repeat(16 * 1024)}`],
    ['a session_id cookie that is not a UUID', 'session_id=not-a-session'],
    ['a session_id cookie that is an upper-case UUID', `session_id=${randomUUID().toUpperCase()}`],
    ['a session_id cookie that was never issued', `session_id=${randomUUID()}`],
    ['two session_id cookies', `session_id=${randomUUID()}; session_id=${randomUUID()}`],
    ['a session_id cookie without a value', 'session_id='],
    ['a cookie header of invalid syntax', '=;; session_id; ="unterminated'],
  ];
  for (const [method, url] of [
    ['GET', '/profile'],
    ['DELETE', '/sessions'],
  ] as const) {
    for (const [what, cookie] of COOKIES) {
      test(`${method} ${url} with ${what} is 403`, async () => {
        const response = await app.inject({
          method,
          url,
          headers: cookie === undefined ? {} : { cookie },
        });
        assertRefusal(response, 403);
        assert.equal(response.headers['set-cookie'], undefined, 'no cookie is set or cleared');
      });
    }
  }
});

describe('unknown routes and methods', () => {
  const REQUESTS: ReadonlyArray<readonly [InjectOptions['method'], string]> = [
    ['GET', '/nowhere'],
    ['POST', '/nowhere'],
    ['GET', '/users'],
    ['PATCH', '/users'],
    ['GET', '/sessions'],
    ['PUT', '/sessions'],
    ['PATCH', '/profile'],
    ['GET', '/profile/password'],
    ['DELETE', '/reset_password'],
    ['OPTIONS', '/users'],
    ['GET', '/profile/../admin'],
  ];
  for (const [method, url] of REQUESTS) {
    test(`${String(method)} ${url} is 404`, async () => {
      const response = await app.inject({ method, url });
      assertRefusal(response, 404);
    });
  }
});

test('a malformed URL gets a JSON 400 with the usual headers', async () => {
  const response = await app.inject({ method: 'GET', url: '/%zz' });
  assertRefusal(response, 400);
  assert.equal(response.headers['cache-control'], 'no-store');
  assert.ok(response.headers['x-request-id']);
});

test('after all of the above, the service still signs up, logs in and shows the profile', async () => {
  const account = { email: 'carol@example.com', password: 'still serving' };
  const signUp = await app.inject({ method: 'POST', url: '/users', ...form(account) });
  assert.equal(signUp.statusCode, 200, signUp.body);
  const login = await app.inject({ method: 'POST', url: '/sessions', ...form(account) });
  assert.equal(login.statusCode, 200, login.body);
  const sessionId = sessionCookie(login);
  assert.ok(sessionId !== undefined, 'login set no session cookie');
  const profile = await app.inject({
    method: 'GET',
    url: '/profile',
    cookies: { session_id: sessionId },
  });
  assert.equal(profile.statusCode, 200, profile.body);
  assert.deepEqual(profile.json(), {
    email: account.email,
    two_factor: false,
    email_verified: false,
  });
});
