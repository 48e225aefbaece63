/**
 * Routes for operators and tools: liveness (`/healthz`), readiness (`/readyz`: the database
 * answers and its migrations are applied), and the OpenAPI document (`/openapi.json`) with a
 * readable page (`/docs`), generated from the routes' own schemas and served by the service.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

export type Readiness = () => Promise<{ ready: boolean; reason?: string }>;

const STATUS = {
  type: 'object',
  required: ['status'],
  properties: { status: { type: 'string' }, message: { type: 'string' } },
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
        summary: 'Readiness: the database answers and its migrations are applied',
        response: { 200: STATUS, 503: STATUS },
      },
    },
    async (_request, reply) => {
      const { ready, reason } = await readiness();
      if (ready) return { status: 'ready' };
      return reply.code(503).send({ status: 'unavailable', message: reason ?? 'not ready' });
    },
  );
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { tryItOutEnabled: false } });
}
