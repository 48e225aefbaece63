/** The `audit_events` table: appended to in batches, read newest first, trimmed by age. */
import type { Kysely } from 'kysely';
import { run } from './errors.js';
import type { AuditEventRow, NewAuditEvent, Schema } from './schema.js';

export interface AuditEventFilters {
  readonly userId?: number;
  readonly type?: string;
  readonly limit: number;
}

export class AuditEvents {
  constructor(private readonly kysely: Kysely<Schema>) {}

  async append(events: readonly NewAuditEvent[]): Promise<void> {
    if (events.length === 0) return;
    await run(() =>
      this.kysely
        .insertInto('audit_events')
        .values([...events])
        .execute(),
    );
  }

  /** The newest events first. */
  async list(filters: AuditEventFilters): Promise<AuditEventRow[]> {
    let query = this.kysely.selectFrom('audit_events').selectAll();
    if (filters.userId !== undefined) query = query.where('user_id', '=', filters.userId);
    if (filters.type !== undefined) query = query.where('type', '=', filters.type);
    return run(() => query.orderBy('id', 'desc').limit(filters.limit).execute());
  }

  /** Deletes the events older than `before`. */
  async purge(before: number): Promise<void> {
    await run(() => this.kysely.deleteFrom('audit_events').where('at', '<', before).execute());
  }
}
