/**
 * The service's entry point (`npm start`) and, with the CLI, the only reader of process.env:
 * load the configuration, then run the server until a signal stops it.
 *
 * No top-level await: the bundle `npm start` runs is a CommonJS script (see
 * scripts/bundle.ts), which cannot have one.
 */
import { AccessRulesFileError } from './auth/access-rules-file.js';
import { ConfigError, loadConfig } from './config.js';
import { describeError } from './describe-error.js';
import { createLogger } from './logger.js';
import { runServer } from './server.js';

function fail(error: unknown): never {
  // A bad access rules file is a configuration mistake too: the same exit status.
  if (error instanceof ConfigError || error instanceof AccessRulesFileError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`Bienvenue failed to start: ${describeError(error)}\n`);
  process.exit(1);
}

try {
  const config = loadConfig(process.env);
  runServer(config, createLogger(config.logLevel)).catch(fail);
} catch (error) {
  fail(error);
}
