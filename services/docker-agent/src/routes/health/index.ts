import { createHealthRoutes } from '@repo/service-kit';
import { z } from 'zod';
import { isEngineUnreachable } from '../../docker/errors.ts';
import { DockerUnavailableError } from '../../errors.ts';

export const Ready = z.object({
  status: z.literal('ready'),
  docker: z.object({
    socket: z.string(),
    engineVersion: z.string(),
    engineApiVersion: z.string(),
    negotiatedApiVersion: z.string(),
  }),
});

/** `/health` and `/ready`: ready when the Docker engine answers (with the negotiated API version). */
export const healthRoutes = createHealthRoutes({
  service: 'docker-agent',
  ready: {
    summary: 'Readiness: the Docker engine answers; shows the negotiated API version',
    response: Ready,
    check: async (app) => {
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
  },
});
