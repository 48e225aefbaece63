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
  /**
   * The kind of the last one's failure: the transport's error code (`ETIMEDOUT`, `EAUTH`…), never
   * its message, which may name hosts and addresses (the log has it in full).
   */
  readonly lastError: string;
  /** Messages failed since then. */
  readonly failures: number;
}

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
    this.current = {
      since: this.current?.since ?? this.clock.now(),
      lastError: errorKind(error),
      failures: (this.current?.failures ?? 0) + 1,
    };
  }
}

/** A short, safe name for `error`: its code when it is a plain token, else its class name. */
function errorKind(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[A-Za-z0-9_]{1,40}$/.test(code)) return code;
  return error instanceof Error ? error.name : 'Error';
}
