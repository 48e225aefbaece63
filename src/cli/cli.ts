/**
 * The `bienvenue` command line: finds the command named by the first words, parses its options
 * (strictly: an unknown option is an error, not ignored), answers `--help` at every level, runs
 * the command and turns the outcome into an exit status. Results go to standard output; errors go
 * to standard error as one message, never a stack trace.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { COMMANDS } from './commands/index.js';
import {
  EXIT,
  UsageError,
  type CliIo,
  type Command,
  type CommandGroup,
  type OptionValues,
} from './command.js';
import { describeFailure } from './failures.js';
import { commandHelp, groupHelp, topLevelHelp } from './help.js';
import { escapingStream } from './output.js';

const HELP_FLAGS = new Set(['--help', '-h', 'help']);

/** Runs the command line `argv` (without `node` and the script) and returns the exit status. */
export async function runCli(argv: readonly string[], terminal: CliIo): Promise<number> {
  // Whatever a command prints, it prints no control character a terminal could act on.
  const io: CliIo = {
    ...terminal,
    stdout: escapingStream(terminal.stdout),
    stderr: escapingStream(terminal.stderr),
  };
  try {
    return await dispatch(argv, io);
  } catch (error) {
    const { exitCode, message } = describeFailure(error);
    io.stderr.write(`bienvenue: ${message}\n`);
    return exitCode;
  }
}

async function dispatch(argv: readonly string[], io: CliIo): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    io.stderr.write(`${topLevelHelp(COMMANDS)}\n`);
    return EXIT.usage;
  }
  if (HELP_FLAGS.has(first)) {
    io.stdout.write(`${topLevelHelp(COMMANDS)}\n`);
    return EXIT.ok;
  }
  const entry = COMMANDS.find((candidate) => candidate.name === first);
  if (entry === undefined) {
    throw new UsageError(`Unknown command "${first}": run \`bienvenue --help\` for the list.`);
  }
  if (entry.kind === 'command') return runCommand(undefined, entry, rest, io);

  const [second, ...args] = rest;
  if (second === undefined) {
    io.stderr.write(`${groupHelp(entry)}\n`);
    return EXIT.usage;
  }
  if (HELP_FLAGS.has(second)) {
    io.stdout.write(`${groupHelp(entry)}\n`);
    return EXIT.ok;
  }
  const command = entry.commands.find((candidate) => candidate.name === second);
  if (command === undefined) {
    throw new UsageError(
      `Unknown command "${first} ${second}": run \`bienvenue ${first} --help\` for the list.`,
    );
  }
  return runCommand(entry, command, args, io);
}

async function runCommand(
  group: CommandGroup | undefined,
  command: Command,
  args: readonly string[],
  io: CliIo,
): Promise<number> {
  const name = group === undefined ? command.name : `${group.name} ${command.name}`;
  const helpHint = `run \`bienvenue ${name} --help\` for its usage`;
  const options: NonNullable<ParseArgsConfig['options']> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const [option, spec] of Object.entries(command.options)) {
    options[option] = { type: spec.type, ...(spec.short !== undefined && { short: spec.short }) };
  }
  let parsed: { values: OptionValues; positionals: string[] };
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      options,
      allowPositionals: true,
      strict: true,
    });
    // No option is declared `multiple`, so no value is an array.
    parsed = { values: values as OptionValues, positionals };
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('. ')[0] : String(error);
    throw new UsageError(`${reason}: ${helpHint}.`);
  }
  if (parsed.values.help === true) {
    io.stdout.write(`${commandHelp(group, command)}\n`);
    return EXIT.ok;
  }
  if (parsed.positionals.length !== command.arguments.length) {
    const expected = command.arguments.length === 0 ? 'no arguments' : command.arguments.join(' ');
    throw new UsageError(`\`bienvenue ${name}\` takes ${expected}: ${helpHint}.`);
  }
  await command.run({ positionals: parsed.positionals, values: parsed.values, io });
  return EXIT.ok;
}
