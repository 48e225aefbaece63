/**
 * What every `bienvenue` command is made of: a name, a one-line summary, its arguments and options
 * (described once, used both to parse the command line and to print `--help`), and a `run` that
 * either returns (exit 0) or throws. Commands write their results to the given streams, never to
 * `process.*` directly, and read settings from the given environment only.
 */
import type { Environment } from '../config.js';

/** The process's streams and environment, as handed to a command. */
export interface CliIo {
  readonly env: Environment;
  readonly stdin: NodeJS.ReadStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** One option of a command, as `parseArgs` takes it plus what `--help` says of it. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** Placeholder for the value in help text, like `N` or `EMAIL`. */
  readonly value?: string;
  readonly description: string;
}

export type OptionValues = Readonly<Record<string, string | boolean | undefined>>;

/** A parsed command line, ready for a command to act on. */
export interface Invocation {
  readonly positionals: readonly string[];
  readonly values: OptionValues;
  readonly io: CliIo;
}

export interface Command {
  readonly kind: 'command';
  readonly name: string;
  readonly summary: string;
  /** Names of the positional arguments, in order, like `['EMAIL']`; all are required. */
  readonly arguments: readonly string[];
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Extra paragraphs for `--help`. */
  readonly details?: string;
  run(invocation: Invocation): Promise<void>;
}

/** Commands under a common first word, like `users add` and `users list`. */
export interface CommandGroup {
  readonly kind: 'group';
  readonly name: string;
  readonly summary: string;
  readonly commands: readonly Command[];
}

/** Exit statuses of `bienvenue`; documented in every `--help`. */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  noSuchAccount: 3,
  refused: 4,
} as const;

/** A command line that cannot be obeyed as written (exit 2); the message says why. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The value of a string option, or undefined when not given. */
export function stringOption(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

/** Whether a boolean option was given. */
export function flag(values: OptionValues, name: string): boolean {
  return values[name] === true;
}

/** A whole-number option within `min`..`max`, or `fallback` when not given. */
export function integerOption(
  values: OptionValues,
  name: string,
  range: { fallback: number; min: number; max: number },
): number {
  const raw = stringOption(values, name);
  if (raw === undefined) return range.fallback;
  const value = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (!Number.isSafeInteger(value) || value < range.min || value > range.max) {
    throw new UsageError(
      `--${name} ${raw}: expected a whole number from ${range.min} to ${range.max}`,
    );
  }
  return value;
}
