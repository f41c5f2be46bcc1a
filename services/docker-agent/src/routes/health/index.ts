import { problemResponses } from '@repo/service-kit';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isEngineUnreachable } from '../../docker/errors.ts';
import { DockerUnavailableError } from '../../errors.ts';

const tags = ['health'];

export const Health = z.object({ status: z.literal('ok'), service: z.literal('docker-agent') });
export const Ready = z.object({
  status: z.literal('ready'),
  docker: z.object({
    socket: z.string(),
    engineVersion: z.string(),
    engineApiVersion: z.string(),
    negotiatedApiVersion: z.string(),
  }),
});

export const healthRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/health',
    {
      schema: {
        tags,
        summary: 'Liveness: the process answers',
        security: [],
        response: { 200: Health },
      },
    },
    async () => ({ status: 'ok' as const, service: 'docker-agent' as const }),
  );

  app.get(
    '/ready',
    {
      schema: {
        tags,
        summary: 'Readiness: the Docker engine answers; shows the negotiated API version',
        security: [],
        response: { 200: Ready, ...problemResponses(503) },
      },
    },
    async () => {
      try {
        const v = await app.docker.negotiate();
        return {
          status: 'ready' as const,
          docker: {
            socket: app.docker.socketPath,
            engineVersion: v.engineVersion,
            engineApiVersion: v.engineApiVersion,
            negotiatedApiVersion: v.apiVersion,
          },
        };
      } catch (error) {
        const why = isEngineUnreachable(error) ? (error as { code: string }).code : (error as Error).message;
        throw new DockerUnavailableError(`Docker engine unreachable at ${app.docker.socketPath} (${why})`, {
          cause: error,
        });
      }
    },
  );
};
