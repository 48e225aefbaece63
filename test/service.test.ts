/**
 * The service stands on its own: it opens, serves and closes without an HTTP app, and closing it
 * writes what its work left pending. A migration that fails stops it, and the server too.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createService } from '../src/compose.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { openService } from '../src/service.js';
import { inspectableDatabase } from './support/databases.js';
import { RecordingMailer } from './support/fakes.js';
import { TEST_ENV } from './support/service.js';

test('opening the service loads no HTTP code', async () => {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = async (file: string): Promise<void> => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = await readFile(file, 'utf8');
    // Static imports only: what a dynamic import() loads is loaded on demand.
    for (const [, specifier = ''] of source.matchAll(/^(?:import|export)[^'"]*?from '([^']+)'/gm)) {
      if (specifier.startsWith('.')) await visit(resolve(dirname(file), specifier));
      else packages.add(specifier);
    }
  };
  await visit(fileURLToPath(import.meta.resolve('../src/service.js')));
  assert.ok(packages.has('bcrypt') && packages.has('kysely'), 'the walk follows imports');
  const http = [...packages].filter((name) => /fastify|ioredis/.test(name));
  assert.deepEqual(http, []);
  assert.deepEqual(
    [...seen].filter((file) => /[\\/]http[\\/]|[\\/]app\.js$/.test(file)),
    [],
  );
});

test('the service opens, serves and closes without an HTTP app, writing its audit events', async () => {
  const database = await inspectableDatabase();
  const config = loadConfig({ ...TEST_ENV, DATABASE_URL: database.url });
  const service = await openService(config, createLogger('silent'), {
    mailer: new RecordingMailer(),
  });
  await service.auth.registerUser('solo@example.com', 'correct horse');
  assert.equal(
    (await service.auth.login('solo@example.com', 'correct horse')).outcome,
    'logged_in',
  );
  assert.equal((await service.readiness()).ready, true);
  await service.close();
  const events = await database.rows('SELECT type FROM audit_events ORDER BY id');
  const types = events.map((event) => event.type);
  for (const type of ['user_registered', 'login_succeeded']) assert.ok(types.includes(type), type);
});

test('a failed migration stops the service and the server alike, with what they opened closed', async () => {
  const database = await inspectableDatabase();
  // A table of the first migration's name but not its shape: that migration cannot create it.
  await database.execute('CREATE TABLE users (unrelated integer)');
  const config = loadConfig({ ...TEST_ENV, DATABASE_URL: database.url });
  const logger = createLogger('silent');
  await assert.rejects(
    openService(config, logger, { mailer: new RecordingMailer() }),
    /Database migration failed/,
  );
  await assert.rejects(
    createService(config, logger, { mailer: new RecordingMailer() }),
    /Database migration failed/,
  );
  // Nothing was applied, and the database is free for the next start.
  assert.deepEqual(await database.rows('SELECT * FROM users'), []);
});
