/**
 * How the property and model-based tests pick their seeds and runs. Every property runs twice:
 * with a fixed seed, so that a run of the suite is repeatable, and with a random seed, printed,
 * so that each run also explores new cases. MODEL_SEED (an integer) replaces both with the one
 * seed to replay (a failure prints it), MODEL_RUNS sets the number of runs of each.
 */
import type { TestContext } from 'node:test';
import fc from 'fast-check';

/** The seed of the repeatable pass. */
export const FIXED_SEED = 19;

function integerFromEnv(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) throw new Error(`${name}=${raw}: expected an integer`);
  return value;
}

/** The seeds to run, each named for the diagnostic line that prints it. */
export function seeds(): { name: string; seed: number }[] {
  const chosen = integerFromEnv('MODEL_SEED');
  if (chosen !== undefined) return [{ name: 'MODEL_SEED', seed: chosen }];
  return [
    { name: 'fixed', seed: FIXED_SEED },
    { name: 'random', seed: Math.floor(Math.random() * 2 ** 31) },
  ];
}

/** Runs `property` once per seed, printing each seed; a failure names it and the shrunk case. */
export async function checkProperty<Ts>(
  t: TestContext,
  property: fc.IAsyncPropertyWithHooks<Ts> | fc.IPropertyWithHooks<Ts>,
  options: { runs: number },
): Promise<void> {
  const runs = integerFromEnv('MODEL_RUNS') ?? options.runs;
  for (const { name, seed } of seeds()) {
    t.diagnostic(`${name} seed ${seed} (replay with MODEL_SEED=${seed}), ${runs} runs`);
    await fc.assert(property, { seed, numRuns: runs, includeErrorInReport: true });
  }
}
