/**
 * `bienvenue hash calibrate --algorithm argon2id`: times argon2id on this machine over a grid of
 * memory sizes (doubling from `--min-memory-kib` up to `--max-memory-kib`) and iteration counts
 * (1 to `--max-iterations`), the median of a few hashes each, and recommends the settings that
 * do the most work (memory × iterations; more memory on a tie) within a target time. A setting
 * already over the target is not followed by heavier ones of the same memory, nor by larger
 * memories once one iteration is over it.
 */
import { performance } from 'node:perf_hooks';
import { flag, integerOption, UsageError, type OptionValues } from '../command.js';
import { json, table } from '../output.js';

/** Hashes timed per setting; the median of an odd count is one of them. */
export const ARGON2_SAMPLES = 3;

export interface Argon2Timing {
  readonly memoryKib: number;
  readonly iterations: number;
  readonly medianMs: number;
}

/** The median time of {@link ARGON2_SAMPLES} argon2id hashes with these settings, in ms. */
export async function timeArgon2(settings: {
  memoryKib: number;
  iterations: number;
  parallelism: number;
}): Promise<number> {
  const { argon2idHasher } = await import('../../auth/password-hashing.js');
  const hasher = argon2idHasher(settings);
  const durations: number[] = [];
  for (let sample = 0; sample < ARGON2_SAMPLES; sample += 1) {
    const start = performance.now();
    await hasher.hash('calibration sample password');
    durations.push(performance.now() - start);
  }
  durations.sort((a, b) => a - b);
  return durations[Math.floor(durations.length / 2)] ?? 0;
}

/** The timing within `targetMs` that does the most work (memory × iterations), or null. */
export function recommendArgon2(
  timings: readonly Argon2Timing[],
  targetMs: number,
): Argon2Timing | null {
  const work = (timing: Argon2Timing) => timing.memoryKib * timing.iterations;
  let best: Argon2Timing | null = null;
  for (const timing of timings.filter((candidate) => candidate.medianMs <= targetMs)) {
    if (
      best === null ||
      work(timing) > work(best) ||
      (work(timing) === work(best) && timing.memoryKib > best.memoryKib)
    ) {
      best = timing;
    }
  }
  return best;
}

/** The memory sizes tried: `min`, doubling, up to `max` (always included). */
export function memorySizes(min: number, max: number): number[] {
  const sizes: number[] = [];
  for (let size = min; size < max; size *= 2) sizes.push(size);
  sizes.push(max);
  return sizes;
}

/** Runs the argon2id calibration with the command's options. */
export async function calibrateArgon2(
  values: OptionValues,
  io: { stdout: NodeJS.WritableStream },
  targetMs: number,
): Promise<void> {
  const memoryRange = { min: 1024, max: 4 * 1024 * 1024 };
  const minMemory = integerOption(values, 'min-memory-kib', { fallback: 19456, ...memoryRange });
  const maxMemory = integerOption(values, 'max-memory-kib', { fallback: 131072, ...memoryRange });
  const maxIterations = integerOption(values, 'max-iterations', { fallback: 4, min: 1, max: 100 });
  const parallelism = integerOption(values, 'parallelism', { fallback: 1, min: 1, max: 16 });
  if (minMemory > maxMemory) {
    throw new UsageError(`--min-memory-kib ${minMemory} is above --max-memory-kib ${maxMemory}.`);
  }
  const timings: Argon2Timing[] = [];
  for (const memoryKib of memorySizes(minMemory, maxMemory)) {
    let overAtOne = false;
    for (let iterations = 1; iterations <= maxIterations; iterations += 1) {
      const medianMs = await timeArgon2({ memoryKib, iterations, parallelism });
      timings.push({ memoryKib, iterations, medianMs: Math.round(medianMs * 10) / 10 });
      if (medianMs > targetMs) {
        overAtOne = iterations === 1;
        break;
      }
    }
    if (overAtOne) break;
  }
  const recommended = recommendArgon2(timings, targetMs);
  if (flag(values, 'json')) {
    io.stdout.write(
      json({
        algorithm: 'argon2id',
        targetMs,
        samples: ARGON2_SAMPLES,
        parallelism,
        timings,
        recommended: recommended && {
          memoryKib: recommended.memoryKib,
          iterations: recommended.iterations,
          parallelism,
        },
      }),
    );
    return;
  }
  io.stdout.write(
    table(
      ['MEMORY KIB', 'ITERATIONS', 'MEDIAN MS'],
      timings.map((timing) => [timing.memoryKib, timing.iterations, timing.medianMs.toFixed(1)]),
    ),
  );
  io.stdout.write(
    recommended === null
      ? `\nNo setting from ${minMemory} KiB hashes within ${targetMs} ms on this machine: ` +
          `lower --min-memory-kib or raise --target-ms.\n`
      : `\nRecommended: PASSWORD_HASH=argon2id ARGON2_MEMORY_KIB=${recommended.memoryKib} ` +
          `ARGON2_ITERATIONS=${recommended.iterations} ARGON2_PARALLELISM=${parallelism} ` +
          `(the most work within ${targetMs} ms per hash on this machine; each hash running ` +
          `at once holds its memory).\n`,
  );
}
