import { problemResponses } from '@repo/service-kit';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { NotReadyError } from '../../errors.ts';
import { readiness } from '../../store/migrator.ts';

const tags = ['health'];

/** Liveness and readiness at the root (the container healthcheck and nginx use `/health`). */
export const healthRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/health',
    {
      schema: {
        tags,
        summary: 'Liveness: the process answers',
        security: [],
        response: { 200: z.object({ status: z.literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/ready',
    {
      schema: {
        tags,
        summary: 'Readiness: the store is reachable and migrated',
        security: [],
        response: { 200: z.object({ status: z.literal('ready') }), ...problemResponses(503) },
      },
    },
    async (request) => {
      const state = await readiness(app.db).catch((err: unknown) => {
        request.log.warn({ err }, 'store not reachable');
        return undefined;
      });
      if (!state?.ready) {
        throw new NotReadyError(state?.reason ?? 'store not reachable', { details: { store: state ?? null } });
      }
      return { status: 'ready' as const };
    },
  );
};
