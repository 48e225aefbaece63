/**
 * The service's entry point (`npm start`) and, with the CLI, the only reader of process.env:
 * load the configuration, then run the server until a signal stops it.
 */
import { AccessRulesFileError } from './auth/access-rules-file.js';
import { ConfigError, loadConfig } from './config.js';
import { describeError } from './describe-error.js';
import { createLogger } from './logger.js';
import { runServer } from './server.js';

try {
  const config = loadConfig(process.env);
  await runServer(config, createLogger(config.logLevel));
} catch (error) {
  // A bad access rules file is a configuration mistake too: the same exit status.
  if (error instanceof ConfigError || error instanceof AccessRulesFileError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`Bienvenue failed to start: ${describeError(error)}\n`);
  process.exit(1);
}
