/**
 * `bienvenue config check`: validates the environment as the server would at start, the access
 * rules file it names and the secret key file beside a SQLite database if there is one, and
 * prints the settings that would take effect, with every secret (passwords in URLs, SECRET_KEY)
 * masked. An invalid environment is reported with one line per bad variable, an invalid rules
 * file with one line per fault, a bad key file with its path and fault, and exit status 2.
 */
import { AccessRulesFileError, readAccessRules } from '../../auth/access-rules-file.js';
import { readKeyFile, secretKeySource } from '../../auth/secret-key.js';
import { ConfigError, describeConfig, loadConfig, type Config } from '../../config.js';
import { flag, type Command, type CommandGroup } from '../command.js';
import { json, listing } from '../output.js';

/** Nested settings (rate limits) flattened to dotted keys. */
function flatten(settings: Record<string, unknown>, prefix = ''): [string, unknown][] {
  return Object.entries(settings).flatMap(([key, value]): [string, unknown][] =>
    value !== null && typeof value === 'object'
      ? flatten(value as Record<string, unknown>, `${prefix}${key}.`)
      : [[`${prefix}${key}`, value]],
  );
}

/**
 * Where the secret key will come from, checking an existing key file as the start would (a bad
 * one is refused); nothing is created.
 */
async function describeSecretKey(config: Config): Promise<string> {
  const source = secretKeySource(config);
  switch (source.kind) {
    case 'environment':
      return 'SECRET_KEY';
    case 'ephemeral':
      return 'random, for this process only (in-memory database)';
    case 'none':
      return 'none: two-factor authentication unavailable until SECRET_KEY is set';
    case 'file':
      return (await readKeyFile(source.path)) === undefined
        ? `key file ${source.path}, created at the first start`
        : `key file ${source.path}`;
  }
}

const check: Command = {
  kind: 'command',
  name: 'check',
  summary: 'validate the environment and print the effective settings, secrets masked',
  arguments: [],
  options: { json: { type: 'boolean', description: 'print JSON instead of text' } },
  async run({ values, io }) {
    const asJson = flag(values, 'json');
    let settings: Record<string, unknown>;
    try {
      const config = loadConfig(io.env);
      const rules = config.accessRulesFile && readAccessRules(config.accessRulesFile);
      settings = {
        ...describeConfig(config),
        secretKeySource: await describeSecretKey(config),
        ...(rules && { accessRules: rules.rules.length }),
      };
    } catch (error) {
      if (asJson && (error instanceof ConfigError || error instanceof AccessRulesFileError)) {
        io.stdout.write(json({ valid: false, problems: error.problems }));
      }
      throw error;
    }
    io.stdout.write(
      asJson
        ? json({ valid: true, settings })
        : `${listing(flatten(settings))}\nThe configuration is valid.\n`,
    );
  },
};

/** The `config` group. */
export const configGroup: CommandGroup = {
  kind: 'group',
  name: 'config',
  summary: 'Inspect the configuration.',
  commands: [check],
};
