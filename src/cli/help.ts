/**
 * The `--help` texts, rendered from the command definitions themselves so they cannot drift from
 * what the parser accepts. Every text ends with the exit statuses, which scripts depend on.
 */
import type { Command, CommandGroup, OptionSpec } from './command.js';

const EXIT_CODES = `Exit codes:
  0  success
  1  unexpected failure (database unreachable, …)
  2  usage or configuration error
  3  no such account (or no such session of it)
  4  refused (invalid email, password policy, email already registered)`;

const ENVIRONMENT = `Settings come from the environment, as for the server (DATABASE_URL, BCRYPT_ROUNDS, …);
logs go to standard error, at LOG_LEVEL (default: warn).`;

const HELP_OPTION: OptionSpec = { type: 'boolean', short: 'h', description: 'show this help' };

/** `bienvenue --help`. */
export function topLevelHelp(entries: readonly (Command | CommandGroup)[]): string {
  const rows: [string, string][] = [];
  for (const entry of entries) {
    if (entry.kind === 'command') rows.push([commandLine([], entry), entry.summary]);
    else
      for (const command of entry.commands)
        rows.push([commandLine([entry], command), command.summary]);
  }
  return [
    'Usage: bienvenue COMMAND [ARGUMENTS] [OPTIONS]',
    'Operate a Bienvenue authentication service: run it, migrate its database, manage accounts.',
    `Commands:\n${columns(rows)}`,
    `Run \`bienvenue COMMAND --help\` for a command's options.`,
    ENVIRONMENT,
    EXIT_CODES,
  ].join('\n\n');
}

/** `bienvenue GROUP --help`. */
export function groupHelp(group: CommandGroup): string {
  const rows = group.commands.map((command): [string, string] => [
    commandLine([group], command),
    command.summary,
  ]);
  return [
    `Usage: bienvenue ${group.name} COMMAND [ARGUMENTS] [OPTIONS]`,
    group.summary,
    `Commands:\n${columns(rows)}`,
    `Run \`bienvenue ${group.name} COMMAND --help\` for a command's options.`,
    EXIT_CODES,
  ].join('\n\n');
}

/** `bienvenue [GROUP] COMMAND --help`. */
export function commandHelp(group: CommandGroup | undefined, command: Command): string {
  const options = Object.entries({ ...command.options, help: HELP_OPTION }).map(
    ([name, spec]): [string, string] => [optionLabel(name, spec), spec.description],
  );
  return [
    `Usage: ${commandLine(group ? [group] : [], command)}`,
    command.summary,
    ...(command.details === undefined ? [] : [command.details]),
    `Options:\n${columns(options)}`,
    ENVIRONMENT,
    EXIT_CODES,
  ].join('\n\n');
}

function commandLine(groups: readonly CommandGroup[], command: Command): string {
  const words = ['bienvenue', ...groups.map((group) => group.name), command.name];
  words.push(...command.arguments);
  if (Object.keys(command.options).length > 0) words.push('[OPTIONS]');
  return words.join(' ');
}

function optionLabel(name: string, spec: OptionSpec): string {
  const long = spec.type === 'string' ? `--${name} ${spec.value ?? 'VALUE'}` : `--${name}`;
  return spec.short === undefined ? `    ${long}` : `-${spec.short}, ${long}`;
}

function columns(rows: readonly (readonly [string, string])[]): string {
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`).join('\n');
}
