/**
 * Each request's logger (logger.ts's `requestLogger`): its lines carry the request's id whatever
 * the level, a line below the level is not written, and a route's own level and a child's
 * bindings hold as pino's own child would keep them.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import type { LogLevel } from '../src/config.js';
import { createLogger, requestLogger } from '../src/logger.js';
import { startTestService } from './support/service.js';

function capture(level: LogLevel) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger(level, sink), lines };
}

describe('a request logger', () => {
  test('writes the lines at or above the level, with the bindings, and nothing below', () => {
    const { logger, lines } = capture('warn');
    const log = requestLogger(logger, { reqId: 'r-1' }, {});
    log.info('not written');
    log.debug('not written');
    log.warn({ detail: 1 }, 'a warning');
    log.error('an error');
    assert.deepEqual(
      lines.map(({ level, reqId, msg, detail }) => ({ level, reqId, msg, detail })),
      [
        { level: 40, reqId: 'r-1', msg: 'a warning', detail: 1 },
        { level: 50, reqId: 'r-1', msg: 'an error', detail: undefined },
      ],
    );
    assert.equal(log.level, 'warn');
  });

  test("follows a route's own level, lower than the service's", () => {
    const { logger, lines } = capture('warn');
    const log = requestLogger(logger, { reqId: 'r-2' }, { level: 'debug' });
    log.debug('written');
    log.trace('not written');
    assert.deepEqual(
      lines.map(({ reqId, msg }) => ({ reqId, msg })),
      [{ reqId: 'r-2', msg: 'written' }],
    );
    assert.equal(log.level, 'debug');
  });

  test("a level set on it, and a child's bindings, add to the request's", () => {
    const { logger, lines } = capture('warn');
    const log = requestLogger(logger, { reqId: 'r-3' }, {});
    log.level = 'info';
    log.info('now written');
    log.child({ part: 'inner' }).info('from the child');
    assert.deepEqual(
      lines.map(({ reqId, part, msg }) => ({ reqId, part, msg })),
      [
        { reqId: 'r-3', part: undefined, msg: 'now written' },
        { reqId: 'r-3', part: 'inner', msg: 'from the child' },
      ],
    );
    assert.equal(logger.level, 'warn', "the service's level is unchanged");
  });
});

test("at the warn level, a request's warning carries its request id", async () => {
  const service = await startTestService({ LOG_LEVEL: 'warn' });
  const response = await service.app.inject({
    method: 'GET',
    url: '/profile',
    headers: { cookie: `session_id=${crypto.randomUUID()}; session_id=${crypto.randomUUID()}` },
  });
  assert.equal(response.statusCode, 403);
  const warning = service.logs
    .map((line) => JSON.parse(line) as { msg?: string; reqId?: string })
    .find((entry) => entry.msg?.includes('the session cookie was sent more than once'));
  assert.ok(warning, 'the warning is logged');
  assert.equal(warning.reqId, response.headers['x-request-id']);
  assert.equal(
    service.logs.filter((line) => line.includes('"incoming request"')).length,
    0,
    'no info line at the warn level',
  );
});
