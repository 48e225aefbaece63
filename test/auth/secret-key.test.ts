/**
 * Where the service's secret key comes from: SECRET_KEY, the key file beside a SQLite database
 * (created once with mode 0600, reused, refused when wrong), a key of the process for an
 * in-memory database, none on PostgreSQL without SECRET_KEY.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createSecretBox } from '../../src/auth/secret-box.js';
import { resolveSecretKey, SecretKeyFileError } from '../../src/auth/secret-key.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { openService, type OpenService } from '../../src/service.js';
import { freshDatabaseUrl, TEST_ENGINE } from '../support/databases.js';
import { RecordingMailer } from '../support/fakes.js';
import { temporaryDirectory } from '../support/files.js';
import { startTestService, TEST_ENV } from '../support/service.js';

/** A logger whose lines are kept, parsed. */
function recordingLogger() {
  const lines: { level: number; msg: string; path?: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as (typeof lines)[number]);
      done();
    },
  });
  return { logger: createLogger('debug', sink), lines };
}

/** Opens the service on `env` (SECRET_KEY unset unless given), closes it, returns it and its logs. */
async function openAndClose(env: Record<string, string>) {
  const { logger, lines } = recordingLogger();
  const config = loadConfig({ ...TEST_ENV, SECRET_KEY: '', ...env });
  const service = await openService(config, logger, { mailer: new RecordingMailer() });
  await service.close();
  return { service, lines };
}

function box(service: OpenService) {
  assert.ok(service.secretBox, 'the service has a secret box');
  return service.secretBox;
}

describe('the key file beside a SQLite database', () => {
  it('is created at first start with mode 0600, logged, and reused by later starts', async () => {
    const folder = temporaryDirectory();
    const database = join(folder, 'nested', 'auth.db');
    const keyFile = `${database}.key`;
    // Whatever the umask lets through, the file is the owner's alone from its creation.
    const umask = process.umask(0);
    let first;
    try {
      first = await openAndClose({ DATABASE_URL: `sqlite:${database}` });
    } finally {
      process.umask(umask);
    }
    const stats = statSync(keyFile);
    assert.equal(stats.mode & 0o777, 0o600);
    assert.equal(stats.size, 32);
    const created = first.lines.find((line) => line.path === keyFile);
    assert.ok(created, 'the path is logged');
    assert.equal(created.level, 30, 'at info');
    assert.deepEqual(
      readdirSync(join(folder, 'nested')).filter((name) => /tmp/.test(name)),
      [],
    );

    const sealed = box(first.service).seal('JBSWY3DPEHPK3PXP');
    const second = await openAndClose({ DATABASE_URL: `sqlite:${database}` });
    assert.equal(box(second.service).open(sealed), 'JBSWY3DPEHPK3PXP');
    assert.equal(second.lines.filter((line) => line.path === keyFile).length, 0, 'not created');
    assert.deepEqual(second.service.secretKey, readFileSync(keyFile));
  });

  it('is created once when two starts race for it', async () => {
    const database = join(temporaryDirectory(), 'raced.db');
    const config = loadConfig({ ...TEST_ENV, SECRET_KEY: '', DATABASE_URL: `sqlite:${database}` });
    const keys = await Promise.all(
      Array.from({ length: 8 }, () => resolveSecretKey(config, createLogger('silent'))),
    );
    const file = readFileSync(`${database}.key`);
    for (const key of keys) assert.deepEqual(key, file);
  });

  const bad: [string, (path: string) => void, RegExp][] = [
    ['31 bytes', (path) => writeFileSync(path, randomBytes(31), { mode: 0o600 }), /31 bytes/],
    ['33 bytes', (path) => writeFileSync(path, randomBytes(33), { mode: 0o600 }), /33 bytes/],
    ['no bytes', (path) => writeFileSync(path, '', { mode: 0o600 }), /0 bytes/],
    ['mode 0644', (path) => writeKey(path, 0o644), /mode 644/],
    ['mode 0640', (path) => writeKey(path, 0o640), /mode 640/],
    ['mode 0602', (path) => writeKey(path, 0o602), /mode 602/],
  ];
  for (const [what, make, reason] of bad) {
    it(`refuses a key file of ${what}, with its path, as a configuration error`, async () => {
      const database = join(temporaryDirectory(), 'auth.db');
      make(`${database}.key`);
      const before = readFileSync(`${database}.key`);
      const config = loadConfig({
        ...TEST_ENV,
        SECRET_KEY: '',
        DATABASE_URL: `sqlite:${database}`,
      });
      await assert.rejects(
        openService(config, createLogger('silent'), { mailer: new RecordingMailer() }),
        (error: unknown) => {
          assert.ok(error instanceof SecretKeyFileError && error instanceof ConfigError);
          assert.ok(error.message.includes(`${database}.key`), error.message);
          assert.match(error.message, reason);
          return true;
        },
      );
      assert.deepEqual(readFileSync(`${database}.key`), before, 'left as it was');
    });
  }

  it('is not used, nor created, when SECRET_KEY is set', async () => {
    const database = join(temporaryDirectory(), 'auth.db');
    const key = randomBytes(32);
    const { service } = await openAndClose({
      DATABASE_URL: `sqlite:${database}`,
      SECRET_KEY: key.toString('base64'),
    });
    assert.throws(() => statSync(`${database}.key`), /ENOENT/);
    assert.equal(createSecretBox(key).open(box(service).seal('seed')), 'seed');
  });

  it('differing from SECRET_KEY is warned of', async () => {
    const database = join(temporaryDirectory(), 'auth.db');
    writeKey(`${database}.key`, 0o600);
    const { lines } = await openAndClose({
      DATABASE_URL: `sqlite:${database}`,
      SECRET_KEY: randomBytes(32).toString('hex'),
    });
    assert.ok(lines.some((line) => line.level === 40 && /differs/.test(line.msg)));
    const same = readFileSync(`${database}.key`).toString('hex');
    const agreeing = await openAndClose({ DATABASE_URL: `sqlite:${database}`, SECRET_KEY: same });
    assert.ok(!agreeing.lines.some((line) => /differs/.test(line.msg)));
  });
});

function writeKey(path: string, mode: number): void {
  writeFileSync(path, randomBytes(32), { mode: 0o600 });
  chmodSync(path, mode);
}

describe(`the secret key on ${TEST_ENGINE}`, () => {
  it('comes from SECRET_KEY when set, with no warning', async () => {
    const key = randomBytes(32);
    const { service, lines } = await openAndClose({
      DATABASE_URL: await freshDatabaseUrl(),
      SECRET_KEY: key.toString('base64url'),
    });
    assert.deepEqual(service.secretKey, key);
    assert.equal(createSecretBox(key).open(box(service).seal('seed')), 'seed');
    assert.ok(!lines.some((line) => /SECRET_KEY/.test(line.msg)));
  });

  if (TEST_ENGINE === 'postgres') {
    it('is absent without SECRET_KEY: no box, and the server warns, naming SECRET_KEY', async () => {
      const { service, lines } = await openAndClose({ DATABASE_URL: await freshDatabaseUrl() });
      assert.equal(service.secretBox, undefined);
      assert.equal(service.secretKey, undefined);
      // The command-line tool opens the service alone, and enrols nobody: no warning for it.
      assert.ok(!lines.some((line) => /SECRET_KEY/.test(line.msg)));

      const server = await startTestService({ SECRET_KEY: '' });
      assert.equal(server.secretBox, undefined);
      const warnings = server.logs
        .map((line) => JSON.parse(line) as { level: number; msg: string })
        .filter((line) => line.level === 40 && /SECRET_KEY/.test(line.msg));
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]?.msg ?? '', /two_factor_unavailable/);
    });
  } else {
    it('is random per process for an in-memory database, and unwarned', async () => {
      const first = await openAndClose({ DATABASE_URL: 'sqlite::memory:' });
      const second = await openAndClose({ DATABASE_URL: 'sqlite::memory:' });
      const sealed = box(first.service).seal('seed');
      assert.equal(box(first.service).open(sealed), 'seed');
      assert.throws(() => box(second.service).open(sealed));
      const server = await startTestService({ SECRET_KEY: '' });
      assert.ok(server.secretBox);
      assert.ok(!server.logs.some((line) => /SECRET_KEY/.test(line)));
    });
  }

  it('is never written to the log, even when the whole config is logged', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const key = randomBytes(32);
    const config = loadConfig({ ...TEST_ENV, SECRET_KEY: key.toString('hex') });
    createLogger('info', sink).info({ config }, 'by mistake');
    assert.equal(lines.length, 1);
    for (const encoding of ['hex', 'base64'] as const) {
      assert.ok(!lines[0]?.includes(key.toString(encoding)), encoding);
    }
    assert.ok(!lines[0]?.includes(`[${[...key].join(',')}]`), 'as bytes');
  });
});
