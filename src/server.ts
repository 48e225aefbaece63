/**
 * Runs the service: build it, listen on PORT (and METRICS_PORT, if set), and stop gracefully on
 * SIGTERM or SIGINT: stop accepting connections, close at once every connection without a request
 * really in flight (idle, or a request not received in full), let the requests in flight finish
 * and the work they queued (reset emails) drain, then exit 0.
 */
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { createService } from './compose.js';
import { describeConfig, type Config } from './config.js';
import { trackConnections } from './http/connections.js';
import { serveMetrics } from './metrics.js';

/** How long a graceful shutdown may take before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 10_000;

export async function runServer(config: Config, logger: Logger): Promise<void> {
  const { app, metrics } = await createService(config, logger);
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
