/**
 * Readiness on a full disk: while writes fail for lack of space, `/readyz` answers 503 with the
 * reason, and 200 again once a write succeeds. On SQLite the disk is "full" when the service's
 * connection may not grow the file (`PRAGMA max_page_count`); on PostgreSQL, where a full disk
 * cannot be provoked from a test, triggers make every write fail with the server's own error for
 * it (53100, disk_full), so the service sees exactly what the server would send.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { openDatabase, type Database } from '../../src/db/connection.js';
import { inspectableDatabase, TEST_ENGINE } from '../support/databases.js';
import { temporaryDirectory } from '../support/files.js';
import { startTestService, submit, type TestService } from '../support/service.js';

const TABLES = ['users', 'throttles', 'audit_events'];

interface Disk {
  readonly url: string;
  /** The service's database, when the simulation needs its own connection. */
  readonly database?: Database;
  fill(): Promise<void>;
  free(): Promise<void>;
}

async function simulatedDisk(): Promise<Disk> {
  if (TEST_ENGINE === 'sqlite') {
    const url = `sqlite:${join(temporaryDirectory(), 'full.db')}`;
    const database = openDatabase(url);
    const sqlite = database.sqlite;
    assert.ok(sqlite);
    return {
      url,
      database,
      fill() {
        // The file may not grow past its current size: writes that need a new page fail.
        sqlite.pragma(`max_page_count = ${String(sqlite.pragma('page_count', { simple: true }))}`);
        return Promise.resolve();
      },
      free() {
        sqlite.pragma('max_page_count = 1000000');
        return Promise.resolve();
      },
    };
  }
  const inspected = await inspectableDatabase();
  return {
    url: inspected.url,
    async fill() {
      await inspected.execute(`
        CREATE FUNCTION disk_full() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
          RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full';
        END $$;
        ${TABLES.map((table) => `CREATE TRIGGER disk_full BEFORE INSERT OR UPDATE OR DELETE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION disk_full();`).join('\n')}`);
    },
    async free() {
      await inspected.execute(`
        ${TABLES.map((table) => `DROP TRIGGER disk_full ON ${table};`).join('\n')}
        DROP FUNCTION disk_full();`);
    },
  };
}

async function startOn(disk: Disk): Promise<TestService> {
  return startTestService(
    { DATABASE_URL: disk.url },
    disk.database === undefined ? {} : { database: disk.database },
  );
}

/** Signs up new accounts until one is refused with 503 (SQLite fills the pages it has first). */
async function signUpUntilRefused(service: TestService): Promise<void> {
  for (let attempt = 0; attempt < 2000; attempt += 1) {
    const answer = await submit(service.app, 'POST', '/users', {
      email: `filler-${attempt}@example.com`,
      password: 'correct horse',
    });
    await service.auth.drain();
    if (answer.statusCode === 503) {
      assert.equal(answer.headers['retry-after'], '5');
      return;
    }
    assert.equal(answer.statusCode, 200, answer.body);
  }
  assert.fail('no write failed for lack of space');
}

async function readiness(service: TestService) {
  const answer = await service.app.inject({ method: 'GET', url: '/readyz' });
  return { status: answer.statusCode, body: answer.json<{ status: string; message?: string }>() };
}

const NO_SPACE = TEST_ENGINE === 'sqlite' ? /SQLITE_FULL/ : /53100/;

test('/readyz answers 503 while writes fail for lack of space, and 200 once one succeeds', async () => {
  const disk = await simulatedDisk();
  const service = await startOn(disk);
  assert.equal((await readiness(service)).status, 200);
  await disk.fill();
  await signUpUntilRefused(service);

  const full = await readiness(service);
  assert.equal(full.status, 503);
  assert.equal(full.body.status, 'unavailable');
  assert.match(full.body.message ?? '', /^database writes failing since \d{4}-\d\d-\d\dT/);
  assert.match(full.body.message ?? '', NO_SPACE);
  assert.equal((await readiness(service)).status, 503, 'still not ready: nothing was freed');
  assert.equal((await service.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);

  await disk.free();
  const signUp = await submit(service.app, 'POST', '/users', {
    email: 'after@example.com',
    password: 'correct horse',
  });
  assert.equal(signUp.statusCode, 200, signUp.body);
  assert.deepEqual((await readiness(service)).body, { status: 'ready' });
});

test('/readyz stays 503 on a full disk after statements that write nothing succeed', async () => {
  const disk = await simulatedDisk();
  const service = await startOn(disk);
  await disk.fill();
  await signUpUntilRefused(service);
  // A logout without a session, a wrong reset token and an unknown login change no row: on
  // SQLite the statements they run, if any, succeed on a full disk all the same.
  await service.app.inject({ method: 'DELETE', url: '/sessions' });
  await submit(service.app, 'PUT', '/reset_password', {
    email: 'nobody@example.com',
    reset_token: crypto.randomUUID(),
    new_password: 'correct horse',
  });
  await disk.database?.kysely.deleteFrom('throttles').where('subject', '=', 'none').execute();
  const stillFull = await readiness(service);
  assert.equal(stillFull.status, 503, 'a statement that changed nothing proves no space');
  assert.match(stillFull.body.message ?? '', NO_SPACE);
});

test('/readyz finds out by itself that space is back, with no other traffic', async () => {
  const disk = await simulatedDisk();
  const service = await startOn(disk);
  await disk.fill();
  await signUpUntilRefused(service);
  assert.equal((await readiness(service)).status, 503);
  await disk.free();
  const ready = await readiness(service);
  assert.equal(ready.status, 200, ready.body.message);
});
