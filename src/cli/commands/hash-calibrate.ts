/**
 * `bienvenue hash calibrate`: measures bcrypt on this machine at each cost of a range (the median
 * of a few hashes per cost) and recommends the highest cost whose median stays within a target
 * time, the value to give BCRYPT_ROUNDS. Each step up doubles the work, so the range need not be
 * wide. With `--algorithm argon2id`, the memory and iteration settings instead
 * (hash-calibrate-argon2.ts). Needs no database and no configuration.
 */
import { performance } from 'node:perf_hooks';
import {
  flag,
  integerOption,
  stringOption,
  UsageError,
  type Command,
  type CommandGroup,
} from '../command.js';
import { json, table } from '../output.js';
import { calibrateArgon2 } from './hash-calibrate-argon2.js';

/** Hashes timed per cost; the median of an odd count is one of them. */
const SAMPLES = 3;
/** The costs BCRYPT_ROUNDS accepts. */
const COST_RANGE = { min: 4, max: 20 };

export interface CostTiming {
  readonly cost: number;
  readonly medianMs: number;
}

/** The median time of {@link SAMPLES} bcrypt hashes at `cost`, in milliseconds. */
export async function timeCost(cost: number): Promise<number> {
  // Loaded on demand (with bcrypt), so that `--help` of every command stays quick.
  const { bcryptHasher } = await import('../../auth/password-hashing.js');
  const hasher = bcryptHasher(cost);
  const durations: number[] = [];
  for (let sample = 0; sample < SAMPLES; sample += 1) {
    const start = performance.now();
    await hasher.hash('calibration sample password');
    durations.push(performance.now() - start);
  }
  durations.sort((a, b) => a - b);
  return durations[Math.floor(durations.length / 2)] ?? 0;
}

/** The highest cost whose median is within `targetMs`, or null when none is. */
export function recommendCost(timings: readonly CostTiming[], targetMs: number): number | null {
  const within = timings.filter((timing) => timing.medianMs <= targetMs);
  return within.length === 0 ? null : Math.max(...within.map((timing) => timing.cost));
}

const calibrate: Command = {
  kind: 'command',
  name: 'calibrate',
  summary: 'time bcrypt (or argon2id) on this machine and recommend its settings',
  arguments: [],
  options: {
    algorithm: {
      type: 'string',
      value: 'NAME',
      description: 'bcrypt (default) or argon2id',
    },
    'target-ms': {
      type: 'string',
      value: 'MS',
      description: 'longest acceptable time for one hash (default 250)',
    },
    'min-cost': { type: 'string', value: 'N', description: 'lowest cost to time (default 8)' },
    'max-cost': { type: 'string', value: 'N', description: 'highest cost to time (default 14)' },
    'min-memory-kib': {
      type: 'string',
      value: 'KIB',
      description: 'argon2id: smallest memory to time (default 19456), doubled up to the largest',
    },
    'max-memory-kib': {
      type: 'string',
      value: 'KIB',
      description: 'argon2id: largest memory to time (default 131072)',
    },
    'max-iterations': {
      type: 'string',
      value: 'N',
      description: 'argon2id: most iterations to time (default 4)',
    },
    parallelism: {
      type: 'string',
      value: 'N',
      description: 'argon2id: lanes per hash (default 1)',
    },
    json: { type: 'boolean', description: 'print JSON instead of text' },
  },
  details:
    `Each cost is timed ${SAMPLES} times and the median kept. Costs range from ${COST_RANGE.min} to ${COST_RANGE.max}. ` +
    'With --algorithm argon2id, each memory size and iteration count is timed, and the settings doing the most work within the target are recommended.',
  async run({ values, io }) {
    const targetMs = integerOption(values, 'target-ms', { fallback: 250, min: 1, max: 600_000 });
    const algorithm = stringOption(values, 'algorithm') ?? 'bcrypt';
    if (algorithm === 'argon2id') {
      await calibrateArgon2(values, io, targetMs);
      return;
    }
    if (algorithm !== 'bcrypt') {
      throw new UsageError(`--algorithm ${algorithm}: expected bcrypt or argon2id.`);
    }
    const minCost = integerOption(values, 'min-cost', { fallback: 8, ...COST_RANGE });
    const maxCost = integerOption(values, 'max-cost', { fallback: 14, ...COST_RANGE });
    if (minCost > maxCost) {
      throw new UsageError(`--min-cost ${minCost} is above --max-cost ${maxCost}.`);
    }
    const timings: CostTiming[] = [];
    for (let cost = minCost; cost <= maxCost; cost += 1) {
      timings.push({ cost, medianMs: Math.round((await timeCost(cost)) * 10) / 10 });
    }
    const recommendedCost = recommendCost(timings, targetMs);
    if (flag(values, 'json')) {
      io.stdout.write(json({ targetMs, samples: SAMPLES, timings, recommendedCost }));
      return;
    }
    io.stdout.write(
      table(
        ['COST', 'MEDIAN MS'],
        timings.map((timing) => [timing.cost, timing.medianMs.toFixed(1)]),
      ),
    );
    io.stdout.write(
      recommendedCost === null
        ? `\nNo cost from ${minCost} to ${maxCost} hashes within ${targetMs} ms on this machine: ` +
            `lower --min-cost or raise --target-ms.\n`
        : `\nRecommended: BCRYPT_ROUNDS=${recommendedCost} ` +
            `(the highest cost within ${targetMs} ms per hash on this machine).\n`,
    );
  },
};

/** The `hash` group. */
export const hashGroup: CommandGroup = {
  kind: 'group',
  name: 'hash',
  summary: 'Tune password hashing.',
  commands: [calibrate],
};
