/**
 * Whether outgoing mail is being delivered, as the last attempts said: failing from the first
 * failure after a success (with the last error and the count since), delivering again at the
 * next message the transport accepts. Readiness shows it; each failure is also counted.
 */
import type { Clock } from '../clock.js';
import type { Mailer } from './mailer.js';

export interface MailFailure {
  /** When the first of the failed messages failed (epoch milliseconds). */
  readonly since: number;
  /** What the last one's transport said. */
  readonly lastError: string;
  /** Messages failed since then. */
  readonly failures: number;
}

/** Longest error text kept: it is shown on /readyz. */
const MAX_ERROR_LENGTH = 200;

export class MailHealth {
  private current: MailFailure | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly onFailure: () => void = () => undefined,
  ) {}

  /** The current failure, or undefined while mail is delivered. */
  get failure(): MailFailure | undefined {
    return this.current;
  }

  /** `mailer`, its every send's outcome recorded here (errors still thrown to the caller). */
  watch(mailer: Mailer): Mailer {
    return {
      send: async (message) => {
        try {
          await mailer.send(message);
        } catch (error) {
          this.recordFailure(error);
          throw error;
        }
        this.current = undefined;
      },
      close: () => mailer.close(),
    };
  }

  private recordFailure(error: unknown): void {
    this.onFailure();
    const text = error instanceof Error ? error.message : String(error);
    this.current = {
      since: this.current?.since ?? this.clock.now(),
      lastError: text.split('\n')[0]?.slice(0, MAX_ERROR_LENGTH) ?? '',
      failures: (this.current?.failures ?? 0) + 1,
    };
  }
}
