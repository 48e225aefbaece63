/**
 * Runs the service: build it, listen on PORT (and METRICS_PORT, if set), and stop gracefully on
 * SIGTERM or SIGINT: stop accepting connections, close at once every connection without a request
 * really in flight (idle, or a request not received in full), let the requests in flight finish
 * and the work they queued (reset emails) drain, then exit 0. SIGHUP reads ACCESS_RULES_FILE
 * again (see {@link reloadAccessRules}); it never stops the process.
 */
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { signUpWarnings, type ReloadableAccessRules } from './auth/access-rules-reload.js';
import { createService } from './compose.js';
import { describeConfig, type Config } from './config.js';
import { trackConnections } from './http/connections.js';
import { serveMetrics } from './metrics.js';

/** How long a graceful shutdown may take before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 10_000;

export async function runServer(config: Config, logger: Logger): Promise<void> {
  const built = createService(config, logger);
  // Listened to before the service is built, since Node's default for SIGHUP is to exit; one that
  // comes meanwhile is answered once it is built (the file may have changed since it was read).
  process.on('SIGHUP', () => {
    built
      .then(
        (service) => reloadAccessRules(service.accessRules, config, logger),
        () => undefined, // the failed start is reported by the caller
      )
      .catch((error: unknown) => logger.error({ err: error }, 'access rules not reloaded'));
  });
  const { app, metrics } = await built;
  const connections = trackConnections(app.server);
  await app.listen({ port: config.port, host: config.host });
  let metricsServer: Server | undefined;
  if (config.metricsPort !== undefined) {
    metricsServer = await serveMetrics(metrics.registry, {
      port: config.metricsPort,
      host: config.metricsHost,
    });
    logger.info(`metrics served at http://${config.metricsHost}:${config.metricsPort}/metrics`);
  }
  logger.info({ config: describeConfig(config) }, 'Bienvenue is ready');

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    // Idle connections, and ones whose request has not arrived in full, cannot hold it open.
    const closed = connections.closeAllButInFlight();
    logger.info({ signal, closed }, 'shutting down: finishing requests in flight');
    setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    metricsServer?.close();
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

/**
 * Reads the access rules file again: a good file replaces the rules in force (and is checked
 * for the open sign-up risk, as at start); a bad one is logged, and the rules in force stay.
 */
function reloadAccessRules(
  accessRules: ReloadableAccessRules,
  config: Config,
  logger: Logger,
): void {
  const result = accessRules.reload();
  if (result.outcome === 'no_file') {
    logger.info('SIGHUP: no ACCESS_RULES_FILE is set, so there are no access rules to reload');
  } else if (result.outcome === 'refused') {
    logger.error(
      { file: accessRules.file, problems: result.error.problems },
      'access rules not reloaded: the file is invalid, and the rules in force stay',
    );
  } else {
    logger.info(
      { file: accessRules.file, rules: result.rules.rules.length },
      `access rules reloaded: ${result.rules.rules.length} rules`,
    );
    for (const warning of signUpWarnings(config, result.rules)) {
      logger.warn({ hosts: warning.hosts }, warning.message);
    }
  }
}
