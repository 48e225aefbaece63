/**
 * `bienvenue events`: the audit trail, newest first, optionally of one account and/or one event
 * type. Pending events are written before reading, so the list is complete up to now.
 */
import { AUDIT_EVENT_TYPES, type AuditEventType } from '../../auth/audit.js';
import { flag, integerOption, stringOption, UsageError, type Command } from '../command.js';
import { json, table } from '../output.js';
import { withService } from '../service-session.js';

function eventType(raw: string | undefined): AuditEventType | undefined {
  if (raw === undefined) return undefined;
  const type = AUDIT_EVENT_TYPES.find((known) => known === raw);
  if (type === undefined) {
    throw new UsageError(`--type ${raw}: expected one of ${AUDIT_EVENT_TYPES.join(', ')}.`);
  }
  return type;
}

/** `bienvenue events`. */
export const eventsCommand: Command = {
  kind: 'command',
  name: 'events',
  summary: 'show recent audit events, newest first',
  arguments: [],
  options: {
    user: { type: 'string', value: 'EMAIL', description: "only this account's events" },
    type: { type: 'string', value: 'TYPE', description: 'only events of this type' },
    limit: { type: 'string', value: 'N', description: 'at most N events (default 50)' },
    json: { type: 'boolean', description: 'print JSON instead of text' },
  },
  details: `Event types: ${AUDIT_EVENT_TYPES.join(', ')}.`,
  async run({ values, io }) {
    const type = eventType(stringOption(values, 'type'));
    const email = stringOption(values, 'user');
    const limit = integerOption(values, 'limit', { fallback: 50, min: 1, max: 100_000 });
    const events = await withService(io.env, ({ admin }) =>
      admin.events({
        limit,
        ...(email !== undefined && { email }),
        ...(type !== undefined && { type }),
      }),
    );
    if (flag(values, 'json')) {
      io.stdout.write(json(events));
      return;
    }
    if (events.length === 0) {
      io.stdout.write('No events.\n');
      return;
    }
    io.stdout.write(
      table(
        ['AT', 'TYPE', 'EMAIL', 'IP', 'SESSION', 'REASON', 'AUTH', 'USER AGENT'],
        events.map((event) => [
          event.at,
          event.type,
          event.email,
          event.ip,
          event.sessionId,
          event.reason,
          event.authMethod,
          event.userAgent,
        ]),
      ),
    );
  },
};
