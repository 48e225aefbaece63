/**
 * The hashing pool: how many password hashes run at once, and a bounded queue for the rest.
 *
 * A hash saturates a core for its whole run. With nothing else to do, the service should use
 * every core for them; with session checks and other cheap requests waiting on the event loop,
 * hashing leaves them a core, so that a login storm does not slow every protected page. Which of
 * the two holds is read from a measured signal, the event loop's utilization, sampled every
 * {@link SAMPLE_INTERVAL_MS} by {@link EventLoopSampler}; {@link adaptiveLimit} turns it into a
 * limit and is a pure function, tested with injected signals.
 *
 * Guarantees:
 * - At most the current limit of operations run at once; the others wait their turn in order.
 * - The queue is bounded: with `maxWaiting` operations waiting, a new one is refused at once with
 *   {@link BusyError}, so a flood costs a bounded wait, never an unbounded one.
 * - An operation whose `signal` is aborted before it starts (its client hung up) leaves the queue
 *   and never runs; it rejects with {@link RequestAbandonedError}. One already running finishes.
 * - A lower limit never stops running work: it only holds back the next starts.
 */
import { availableParallelism } from 'node:os';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { BusyError, RequestAbandonedError } from './errors.js';
import type { PasswordHasher } from './password-hashing.js';

/**
 * Operations that may wait for a slot, per slot, by default. Room for a burst: a client's hang-up
 * is seen a moment after its request, so the requests of a burst of abandoned logins all queue
 * before their hang-ups drop them, and a smaller queue would then refuse the real logins that
 * arrive with them (measured: 16 refused one run in three).
 */
export const HASH_QUEUE_PER_SLOT = 64;
/** What a full queue tells callers to wait before retrying. */
const BUSY_RETRY_AFTER_SECONDS = 2;
/** Hashes at once at most, each on a thread of its own (`hash-threads.ts`). */
export const MAX_HASH_CONCURRENCY = 4;
/** How often the event loop is sampled. */
export const SAMPLE_INTERVAL_MS = 50;

/**
 * Event-loop utilization (the share of time the loop was busy, 0 to 1) at or above which cheap
 * requests are taken to be waiting, and at or below which they are taken to be gone. Between
 * the two the limit stays as it was, so that a signal near one threshold does not flap.
 *
 * Logins alone keep the loop well over half busy without needing its core: their commits wait
 * for the disk on the loop (SQLite, synchronous = FULL), and with every core hashing, the loop's
 * own work waits for a core too. Measured on 2 cores with argon2id logins only: a median of 0.44
 * with one hash at a time and 0.65 with two (90th percentile 0.81), so thresholds of 0.5 and
 * 0.3 held the pool at one hash through a pure login storm (0.56 to 0.63 of the raw ceiling,
 * against 0.72 to 0.80 with two). Session checks that wait keep it near 1.
 */
export const BUSY_UTILIZATION = 0.9;
export const IDLE_UTILIZATION = 0.7;

/** What {@link adaptiveLimit} decides from. */
export interface LoadSignal {
  /** Cores this process may use. */
  readonly cores: number;
  /** The event loop's utilization over the last sample, 0 to 1. */
  readonly utilization: number;
  /** The limit in force now. */
  readonly current: number;
}

/**
 * How many hashes may run at once: as many as there are cores when the event loop is idle, one
 * core fewer (at least one) when it is busy, unchanged in between. Never above
 * {@link MAX_HASH_CONCURRENCY}.
 */
export function adaptiveLimit(signal: LoadSignal): number {
  const all = Math.max(1, Math.min(MAX_HASH_CONCURRENCY, Math.floor(signal.cores)));
  const leaveOne = Math.max(1, all - 1);
  if (signal.utilization >= BUSY_UTILIZATION) return leaveOne;
  if (signal.utilization <= IDLE_UTILIZATION) return all;
  return Math.min(all, Math.max(leaveOne, signal.current));
}

/** A source of event-loop utilization samples; `stop` ends the sampling. */
export interface LoadSampler {
  start(onSample: (utilization: number) => void): void;
  stop(): void;
}

/** Samples `performance.eventLoopUtilization()` every `intervalMs`, on an unref'd timer. */
export class EventLoopSampler implements LoadSampler {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly intervalMs = SAMPLE_INTERVAL_MS) {}

  start(onSample: (utilization: number) => void): void {
    let previous: EventLoopUtilization = performance.eventLoopUtilization();
    this.timer = setInterval(() => {
      const now = performance.eventLoopUtilization();
      onSample(performance.eventLoopUtilization(now, previous).utilization);
      previous = now;
    }, this.intervalMs).unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** How the pool's limit is chosen: a fixed number, or adapted to the load. */
export type PoolLimit =
  | { readonly kind: 'fixed'; readonly limit: number }
  | {
      readonly kind: 'adaptive';
      /** Cores this process may use; `os.availableParallelism()` by default. */
      readonly cores?: number;
      /** Where the load comes from; the event loop's utilization by default. */
      readonly sampler?: LoadSampler;
    };

/** A {@link PasswordHasher} that runs its operations through the pool; `close` stops sampling. */
export interface HashPool extends PasswordHasher {
  /** How many operations may run at once now. */
  readonly limit: number;
  /** How many run now. */
  readonly running: number;
  close(): void;
}

/** `hasher` behind a pool limited as `poolLimit` says (see the module's guarantees). */
export function hashPool(
  hasher: PasswordHasher,
  poolLimit: PoolLimit,
  options: { readonly maxWaiting?: number } = {},
): HashPool {
  const cores =
    poolLimit.kind === 'adaptive' ? (poolLimit.cores ?? availableParallelism()) : poolLimit.limit;
  let limit =
    poolLimit.kind === 'fixed'
      ? poolLimit.limit
      : adaptiveLimit({ cores, utilization: 0, current: 0 });
  // Room per slot the pool may ever open: every core's, when adaptive.
  const maxWaiting =
    options.maxWaiting ??
    (poolLimit.kind === 'fixed'
      ? poolLimit.limit
      : adaptiveLimit({ cores, utilization: 0, current: 0 })) * HASH_QUEUE_PER_SLOT;
  let running = 0;
  const waiting: (() => void)[] = [];
  /** Starts waiters while there is room. */
  const pump = () => {
    while (running < limit && waiting.length > 0) {
      running += 1;
      waiting.shift()?.();
    }
  };
  const sampler =
    poolLimit.kind === 'adaptive' ? (poolLimit.sampler ?? new EventLoopSampler()) : undefined;
  sampler?.start((utilization) => {
    limit = adaptiveLimit({ cores, utilization, current: limit });
    pump();
  });
  /** Resolves when an operation may start: at once, or when a slot frees up. */
  const slot = (signal: AbortSignal | undefined): Promise<void> => {
    if (signal?.aborted) return Promise.reject(new RequestAbandonedError());
    if (running < limit && waiting.length === 0) {
      running += 1;
      return Promise.resolve();
    }
    if (waiting.length >= maxWaiting) {
      return Promise.reject(new BusyError(BUSY_RETRY_AFTER_SECONDS));
    }
    return new Promise<void>((resolve, reject) => {
      const start = () => {
        signal?.removeEventListener('abort', drop);
        resolve();
      };
      const drop = () => {
        const index = waiting.indexOf(start);
        if (index !== -1) waiting.splice(index, 1);
        reject(new RequestAbandonedError());
      };
      signal?.addEventListener('abort', drop, { once: true });
      waiting.push(start);
    });
  };
  const run = async <T>(signal: AbortSignal | undefined, operation: () => Promise<T>) => {
    await slot(signal);
    try {
      return await operation();
    } finally {
      running -= 1;
      pump();
    }
  };
  return {
    get limit() {
      return limit;
    },
    get running() {
      return running;
    },
    hash: (password, hashOptions) =>
      run(hashOptions?.signal, () => hasher.hash(password, hashOptions)),
    verify: (password, hash, hashOptions) =>
      run(hashOptions?.signal, () => hasher.verify(password, hash, hashOptions)),
    needsRehash: (hash) => hasher.needsRehash(hash),
    close: () => sampler?.stop(),
  };
}

/** `hasher`, running at most `limit` operations at once (a fixed {@link hashPool}). */
export function limitConcurrency(
  hasher: PasswordHasher,
  limit: number,
  options: { readonly maxWaiting?: number } = {},
): PasswordHasher {
  return hashPool(hasher, { kind: 'fixed', limit }, options);
}
