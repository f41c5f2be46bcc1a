import type { FastifyInstance, FastifyPluginAsync, FastifyRequest, FastifySchema } from 'fastify';
import { z } from 'zod';
import { problemResponses } from './problem.ts';

export interface HealthOptions<R extends z.ZodType> {
  /** Named in `/health`'s answer beside `status: "ok"`, when given. */
  service?: string;
  /** `/ready`: what it checks (its summary), what it answers, and the check (throws a 503 error when not ready). */
  ready: {
    summary: string;
    response: R;
    check: (app: FastifyInstance, request: FastifyRequest) => Promise<z.input<R>>;
  };
}

/**
 * Liveness (`/health`: the process answers) and readiness (`/ready`: what the service needs answers)
 * at the root, public (`security: []`); the container healthchecks and nginx use `/health`.
 */
export function createHealthRoutes<R extends z.ZodType>(options: HealthOptions<R>): FastifyPluginAsync {
  const tags = ['health'];
  const { service } = options;
  const alive = service === undefined ? { status: 'ok' } : { status: 'ok', service };
  const health: FastifySchema = {
    tags,
    summary: 'Liveness: the process answers',
    security: [],
    response: {
      200:
        service === undefined
          ? z.object({ status: z.literal('ok') })
          : z.object({ status: z.literal('ok'), service: z.literal(service) }),
    },
  };
  // Plain schemas: the check's own type already ties its answer to `response`.
  const ready: FastifySchema = {
    tags,
    summary: options.ready.summary,
    security: [],
    response: { 200: options.ready.response, ...problemResponses(503) },
  };
  return async (app) => {
    app.get('/health', { schema: health }, async () => alive);
    app.get('/ready', { schema: ready }, async (request) => options.ready.check(app, request));
  };
}
