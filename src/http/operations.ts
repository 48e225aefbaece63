/**
 * Routes for operators and tools: liveness (`/healthz`), readiness (`/readyz`: the database
 * answers, its migrations are applied and writes are not failing for lack of space; failing mail
 * is shown but leaves the service ready), and the OpenAPI document (`/openapi.json`) with a
 * readable page (`/docs`), generated from the routes' own schemas and served by the service.
 */
import swagger from '@fastify/swagger';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

/** Mail that is failing: shown by /readyz, which it does not make unready. */
export interface MailFailureReport {
  readonly status: 'failing';
  /** ISO 8601 time of the first failure since mail last worked. */
  readonly since: string;
  readonly failures: number;
  readonly lastError: string;
}

export interface ReadinessReport {
  readonly ready: boolean;
  /** Why not, when not ready. */
  readonly reason?: string;
  readonly mail?: MailFailureReport;
}

export type Readiness = () => Promise<ReadinessReport>;

const STATUS = {
  type: 'object',
  required: ['status'],
  properties: { status: { type: 'string' }, message: { type: 'string' } },
} as const;

const READINESS = {
  type: 'object',
  required: ['status'],
  properties: {
    ...STATUS.properties,
    mail: {
      type: 'object',
      required: ['status', 'since', 'failures', 'lastError'],
      properties: {
        status: { type: 'string', enum: ['failing'] },
        since: { type: 'string' },
        failures: { type: 'integer' },
        lastError: { type: 'string' },
      },
    },
  },
} as const;

/** Registers the OpenAPI generator; must come before the routes it documents. */
export async function registerOpenApi(app: FastifyInstance, publicUrl: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Bienvenue',
        version: '1',
        description:
          'User authentication: sign-up, login sessions (a session_id cookie), logout and password reset. Requests carry form data (urlencoded or multipart) or JSON; answers are JSON.',
      },
      servers: [{ url: publicUrl }],
    },
  });
}

export async function registerOperationRoutes(
  app: FastifyInstance,
  readiness: Readiness,
): Promise<void> {
  app.get(
    '/healthz',
    { schema: { summary: 'Liveness: the process answers', response: { 200: STATUS } } },
    () => ({ status: 'ok' }),
  );
  app.get(
    '/readyz',
    {
      schema: {
        summary:
          'Readiness: the database answers, its migrations are applied and its writes succeed; failing mail is reported',
        response: { 200: READINESS, 503: READINESS },
      },
    },
    async (_request, reply) => {
      const { ready, reason, mail } = await readiness();
      const details = mail === undefined ? {} : { mail };
      if (ready) return { status: 'ready', ...details };
      return reply
        .code(503)
        .send({ status: 'unavailable', message: reason ?? 'not ready', ...details });
    },
  );
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
  // The UI's files are named from its package's folder, not from the module's own: the service
  // runs bundled (scripts/bundle.ts), where the module's folder is not the package's.
  const uiFiles = join(
    dirname(createRequire(import.meta.url).resolve('@fastify/swagger-ui')),
    'static',
  );
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { tryItOutEnabled: false },
    baseDir: uiFiles,
    logo: { type: 'image/svg+xml', content: readFileSync(join(uiFiles, 'logo.svg')) },
  });
}
