/**
 * Work the service does off the caller's path (reset emails, notices): each task's failure is
 * logged, never thrown, and {@link BackgroundWork.drain} awaits every task, for a graceful
 * shutdown and for tests.
 */
import type { Logger } from 'pino';

export class BackgroundWork {
  private readonly tasks = new Set<Promise<void>>();

  constructor(private readonly logger: Logger) {}

  /** Tasks still running. */
  get pending(): number {
    return this.tasks.size;
  }

  /** Runs `work` in the background; `failure` is the log message if it throws. */
  run(work: () => Promise<void>, failure: string): void {
    const task = work().catch((error: unknown) => {
      this.logger.error({ err: error }, failure);
    });
    this.tasks.add(task);
    void task.finally(() => this.tasks.delete(task));
  }

  /** Resolves once every task, including those started meanwhile, has finished. */
  async drain(): Promise<void> {
    while (this.tasks.size > 0) await Promise.allSettled([...this.tasks]);
  }
}
