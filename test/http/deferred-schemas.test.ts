/**
 * Route schemas compiled when first used: on a bare Fastify app, nothing compiles before the
 * first request, a route compiles its own schemas only, validation still refuses what the schema
 * refuses (with Fastify's own error, and the service's Ajv options), answers are still serialized by their schema, and
 * `compileAll` leaves nothing pending.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Fastify from 'fastify';
import { deferredSchemas } from '../../src/http/deferred-schemas.js';

function appWith(schemas = deferredSchemas()) {
  const app = Fastify({
    // The service's own Ajv option: it must reach the deferred compiler.
    ajv: { customOptions: { coerceTypes: false } },
    schemaController: { compilersFactory: schemas.compilersFactory },
  });
  const body = {
    type: 'object',
    required: ['name'],
    properties: { name: { type: 'string', minLength: 2 } },
    additionalProperties: false,
  };
  const answer = {
    200: { type: 'object', properties: { greeting: { type: 'string' } } },
  };
  app.post('/a', { schema: { body, response: answer } }, (request) => ({
    greeting: `hello ${(request.body as { name: string }).name}`,
    secret: 'left out by the response schema',
  }));
  app.post('/b', { schema: { body, response: answer } }, () => ({ greeting: 'b' }));
  return { app, schemas };
}

test('nothing compiles before the first request; a request compiles its own route only', async () => {
  const { app, schemas } = appWith();
  await app.ready();
  // Each route: one body validator and one serializer for its 200.
  assert.equal(schemas.pending, 4);
  const answer = await app.inject({ method: 'POST', url: '/a', payload: { name: 'Ada' } });
  assert.equal(answer.statusCode, 200);
  assert.deepEqual(answer.json(), { greeting: 'hello Ada' });
  assert.equal(schemas.pending, 2);
  await app.close();
});

test('a deferred validator refuses what the schema refuses, with Fastify’s own error', async () => {
  const { app } = appWith();
  const tooShort = await app.inject({ method: 'POST', url: '/a', payload: { name: 'A' } });
  assert.equal(tooShort.statusCode, 400);
  assert.match(tooShort.json<{ message: string }>().message, /body\/name must NOT have fewer/);
  // Fastify's default would coerce the number into "1234"; the service's Ajv option refuses it.
  const wrongType = await app.inject({ method: 'POST', url: '/a', payload: { name: 1234 } });
  assert.equal(wrongType.statusCode, 400);
  assert.match(wrongType.json<{ message: string }>().message, /body\/name must be string/);
  const missing = await app.inject({ method: 'POST', url: '/a', payload: {} });
  assert.equal(missing.statusCode, 400);
  assert.match(missing.json<{ message: string }>().message, /required property 'name'/);
  // The same validator passes good input after refusing bad: no error is left over.
  const good = await app.inject({ method: 'POST', url: '/a', payload: { name: 'Ada' } });
  assert.equal(good.statusCode, 200);
  await app.close();
});

test('compileAll compiles every pending schema, and the routes then answer as before', async () => {
  const { app, schemas } = appWith();
  await app.ready();
  await schemas.compileAll();
  assert.equal(schemas.pending, 0);
  const answer = await app.inject({ method: 'POST', url: '/b', payload: { name: 'Bo' } });
  assert.deepEqual(answer.json(), { greeting: 'b' });
  const refused = await app.inject({ method: 'POST', url: '/b', payload: { name: 7 } });
  assert.equal(refused.statusCode, 400);
  await app.close();
});
