/**
 * Prometheus metrics (prom-client), in a registry of the service's own: request latency by route
 * and status, authentication outcomes, password-hash durations, mail failures, the process's own figures
 * (event-loop lag included) and, on PostgreSQL, the connection pool. They are served on a
 * listener of their own (METRICS_PORT), never on the public port.
 */
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { PasswordHasher } from './auth/passwords.js';
import type { Database } from './db/connection.js';

export interface Metrics {
  readonly registry: Registry;
  readonly httpRequestDuration: Histogram<'method' | 'route' | 'status_code'>;
  readonly authEvents: Counter<'type'>;
  readonly passwordHashDuration: Histogram<'operation'>;
  readonly mailFailures: Counter;
}

export function createMetrics(database: Database): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'bienvenue_' });
  const httpRequestDuration = new Histogram({
    name: 'bienvenue_http_request_duration_seconds',
    help: 'Time to answer HTTP requests, by route and status',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const authEvents = new Counter({
    name: 'bienvenue_auth_events_total',
    help: 'Authentication events (the audit log types: user_registered, login_succeeded, login_failed, login_throttled, password_reset_requested, password_reset_completed, …)',
    labelNames: ['type'] as const,
    registers: [registry],
  });
  const passwordHashDuration = new Histogram({
    name: 'bienvenue_password_hash_duration_seconds',
    help: 'Time taken by password hashing (bcrypt or argon2id), to hash a new password or to verify one',
    labelNames: ['operation'] as const,
    buckets: [0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5],
    registers: [registry],
  });
  const mailFailures = new Counter({
    name: 'bienvenue_mail_failures_total',
    help: 'Emails the mail transport failed to deliver (refused, unreachable or past its deadline)',
    registers: [registry],
  });
  const { poolStats } = database;
  if (poolStats !== undefined) {
    const figures = [
      ['total', 'Open database connections'],
      ['idle', 'Idle database connections'],
      ['waiting', 'Queries waiting for a database connection'],
    ] as const;
    for (const [figure, help] of figures) {
      new Gauge({
        name: `bienvenue_db_pool_${figure}_connections`,
        help,
        registers: [registry],
        collect() {
          this.set(poolStats()[figure]);
        },
      });
    }
  }
  return { registry, httpRequestDuration, authEvents, passwordHashDuration, mailFailures };
}

/** `hasher`, timing each hash and verification into the metrics. */
export function timedHasher(hasher: PasswordHasher, metrics: Metrics): PasswordHasher {
  return {
    hash: async (password, options) => {
      const done = metrics.passwordHashDuration.startTimer({ operation: 'hash' });
      try {
        return await hasher.hash(password, options);
      } finally {
        done();
      }
    },
    verify: async (password, hash, options) => {
      const done = metrics.passwordHashDuration.startTimer({ operation: 'verify' });
      try {
        return await hasher.verify(password, hash, options);
      } finally {
        done();
      }
    },
    needsRehash: (hash) => hasher.needsRehash(hash),
  };
}

/** Serves `GET /metrics` (text exposition format) on a listener of its own. */
export async function serveMetrics(
  registry: Registry,
  options: { port: number; host: string },
): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => response.writeHead(500).end(),
    );
  });
  server.listen(options.port, options.host);
  await once(server, 'listening');
  return server;
}
