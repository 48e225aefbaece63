/**
 * The service's entry point and the only reader of process.env: load the configuration, open and
 * migrate the database, listen. On SIGTERM or SIGINT it stops accepting connections, lets requests
 * in flight finish, then exits.
 */
import { ConfigError, describeConfig, loadConfig } from './config.js';
import { createService } from './compose.js';
import { describeError } from './describe-error.js';
import { createLogger } from './logger.js';

/** How long a graceful shutdown may take before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 10_000;

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  const logger = createLogger(config.logLevel);
  const { app } = await createService(config, logger);
  await app.listen({ port: config.port, host: config.host });
  logger.info({ config: describeConfig(config) }, 'Bienvenue is ready');

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing requests in flight');
    setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`Bienvenue failed to start: ${describeError(error)}\n`);
  process.exit(1);
});
