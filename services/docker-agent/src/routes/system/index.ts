import { problemResponses } from '@repo/service-kit';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Guard } from '../../policy/guard.ts';
import { DiskUsage, PruneBody, PruneResult, SystemInfo, SystemVersion } from './schemas.ts';
import { diskUsage, prune, systemInfo, systemVersion } from './service.ts';

const tags = ['system'];

export const systemRoutes: FastifyPluginAsyncZod<{ protectLabel: string; guard: Guard }> = async (
  app,
  { protectLabel, guard },
) => {
  app.get(
    '/info',
    {
      schema: {
        tags,
        summary: 'Docker engine information',
        response: { 200: SystemInfo, ...problemResponses(401, 403, 503) },
      },
    },
    async () => systemInfo(app.docker),
  );

  app.get(
    '/version',
    {
      schema: {
        tags,
        summary: 'Docker engine version and the negotiated API version',
        response: { 200: SystemVersion, ...problemResponses(401, 403, 503) },
      },
    },
    async () => systemVersion(app.docker),
  );

  app.get(
    '/df',
    {
      schema: {
        tags,
        summary: 'Disk usage',
        response: { 200: DiskUsage, ...problemResponses(401, 403, 503) },
      },
    },
    async () => diskUsage(app.docker),
  );

  app.post(
    '/prune',
    {
      config: { audit: 'system.prune' },
      schema: {
        tags,
        summary: 'Remove unused resources',
        description:
          'The body chooses what: containers, images (allImages for every unused image), volumes, networks, ' +
          'buildCache; `labels` restricts to labelled resources; `dryRun: true` lists what would go.',
        body: PruneBody,
        response: { 200: PruneResult, ...problemResponses(400, 401, 403, 409, 503) },
      },
    },
    async (request) => {
      const chosen = ['containers', 'images', 'volumes', 'networks', 'buildCache'].filter(
        (k) => request.body[k as 'containers'],
      );
      request.audit.target = `${chosen.join(',')}${request.body.dryRun ? ' (dry run)' : ''}`;
      return prune(app.docker, request.body, protectLabel, guard);
    },
  );
};
