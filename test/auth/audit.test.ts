import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { AuditLog } from '../../src/auth/audit.js';
import { openDatabase } from '../../src/db/connection.js';
import { AuditEvents } from '../../src/db/audit-events.js';
import { migrateToLatest } from '../../src/db/migrations.js';
import { freshDatabaseUrl } from '../support/databases.js';
import { FakeClock } from '../support/fakes.js';

const DAY = 24 * 3600 * 1000;

test('events older than AUDIT_RETENTION_DAYS are deleted, newer ones kept', async () => {
  const database = openDatabase(await freshDatabaseUrl());
  try {
    await migrateToLatest(database);
    const clock = new FakeClock();
    const events = new AuditEvents(database.kysely);
    const event = (daysAgo: number) => ({ at: clock.now() - daysAgo * DAY, type: 'logout' });
    await events.append([event(31), event(29), event(1)]);
    const audit = new AuditLog(events, {
      clock,
      logger: pino({ level: 'silent' }),
      retentionDays: 30,
    });
    // The first sweep runs as the log starts; wait (boundedly) for it.
    for (let tries = 0; tries < 100; tries += 1) {
      if ((await events.list({ limit: 10 })).length === 2) break;
      await new Promise((done) => setTimeout(done, 10));
    }
    const kept = await events.list({ limit: 10 });
    assert.deepEqual(
      kept.map((row) => Math.round((clock.now() - row.at) / DAY)),
      [1, 29],
    );
    audit.record({ type: 'logout', user: { id: 7, email: 'a@example.com' } });
    await audit.close();
    assert.equal((await events.list({ limit: 10, userId: 7 })).length, 1);
  } finally {
    await database.kysely.destroy();
  }
});
