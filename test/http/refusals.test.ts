/**
 * The catalogue of refusals is the one list of codes: the README's table and the OpenAPI
 * document's enum say the same, and the answers that translate returned outcomes use it.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { SessionRequiredError, UserAlreadyExistsError } from '../../src/auth/errors.js';
import { Refusal, REFUSAL_CODES, REFUSALS } from '../../src/http/refusals.js';
import { startTestService } from '../support/service.js';

const README = resolve(import.meta.dirname, '../../../README.md');

test('the README lists every code of the catalogue, with its status', async () => {
  const text = await readFile(README, 'utf8');
  const rows = [...text.matchAll(/^\| `([a-z_]+)` +\| (\d{3}|4xx) +\|/gm)].map(
    ([, code, status]) => [code, status],
  );
  const expected = Object.entries(REFUSALS).map(([code, entry]) => [
    code,
    code === 'client_error' ? '4xx' : String(entry.status),
  ]);
  assert.deepEqual(rows, expected);
});

test('the OpenAPI document’s error code enum is the catalogue', async () => {
  const { app } = await startTestService();
  const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<{
    paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
  }>();
  // Every error body's schema (the objects with a requestId), on every route.
  const enums = new Set<string>();
  let errorSchemas = 0;
  const visit = (node: unknown): void => {
    if (typeof node !== 'object' || node === null) return;
    const record = node as Record<string, unknown>;
    if (record.requestId !== undefined) {
      errorSchemas += 1;
      enums.add(JSON.stringify((record.code as { enum?: string[] } | undefined)?.enum));
    }
    Object.values(record).forEach(visit);
  };
  visit(document.paths);
  assert.ok(errorSchemas > 10);
  assert.deepEqual([...enums], [JSON.stringify(REFUSAL_CODES)]);
});

test('returned refusals are answered from the catalogue', async () => {
  const { app } = await startTestService();
  const profile = await app.inject({ method: 'GET', url: '/profile' });
  assert.equal(profile.statusCode, REFUSALS.session_required.status);
  assert.equal(profile.json<{ code: string }>().code, 'session_required');
  const login = await app.inject({
    method: 'POST',
    url: '/sessions',
    payload: { email: 'nobody@example.com', password: 'whatever it is' },
  });
  assert.equal(login.statusCode, REFUSALS.invalid_credentials.status);
  assert.deepEqual(Object.keys(login.json<object>()).sort(), ['code', 'message', 'requestId']);
});

test('a refusal captures no stack trace, and leaves the limit for other errors as it was', () => {
  const limit = Error.stackTraceLimit;
  for (const refusal of [
    new Refusal('not_found'),
    new SessionRequiredError(),
    new UserAlreadyExistsError('ada@example.com'),
  ]) {
    assert.ok(refusal instanceof Error);
    assert.equal(refusal.stack?.split('\n').length, 1, `${refusal.name}: ${refusal.stack}`);
  }
  assert.equal(Error.stackTraceLimit, limit);
  assert.ok((new Error('a fault').stack?.split('\n').length ?? 0) > 1, 'a fault keeps its stack');
});
