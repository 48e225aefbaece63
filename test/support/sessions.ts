/**
 * Opening sessions in data-layer tests as a login does (`Sessions.openWithinCap`), with a cap no
 * test reaches and a liveness that counts none dead, so that only the rows a test asks for change.
 */
import type { NewSession } from '../../src/db/schema.js';
import type { OpenConditions, Sessions } from '../../src/db/sessions.js';

const NO_CAP = {
  most: 1000,
  liveness: {
    now: Number.MIN_SAFE_INTEGER,
    seenAfter: Number.MIN_SAFE_INTEGER,
    startedAfter: Number.MIN_SAFE_INTEGER,
  },
};

/** Opens `session` under `options`; whether it was opened. */
export async function openSession(
  sessions: Sessions,
  session: NewSession,
  options: OpenConditions = {},
): Promise<boolean> {
  return (await sessions.openWithinCap(session, options, NO_CAP)) !== null;
}
