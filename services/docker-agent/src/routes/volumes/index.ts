import { problemResponses } from '@repo/service-kit';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Guard } from '../../policy/guard.ts';
import type { Policy } from '../../policy/policy.ts';
import { ActionResult } from '../../schemas/common.ts';
import { CreateVolumeBody, ListVolumesQuery, RemoveVolumeQuery, Volume, VolumeList, VolumeParams } from './schemas.ts';
import { createVolume, listVolumes, removeVolume, toVolume } from './service.ts';

const tags = ['volumes'];

export interface VolumeRoutesOptions {
  policy: Policy;
  guard: Guard;
  protectLabel: string;
}

export const volumeRoutes: FastifyPluginAsyncZod<VolumeRoutesOptions> = async (
  app,
  { policy, guard, protectLabel },
) => {
  app.get(
    '/',
    {
      schema: {
        tags,
        summary: 'List volumes',
        querystring: ListVolumesQuery,
        response: { 200: VolumeList, ...problemResponses(400, 401, 403, 503) },
      },
    },
    async (request) => listVolumes(app.docker, request.query),
  );

  app.post(
    '/',
    {
      config: { audit: 'volume.create' },
      schema: {
        tags,
        summary: 'Create a volume',
        description: 'local-driver bind options (o=bind, device=...) are held to the bind-mount policy.',
        body: CreateVolumeBody,
        response: { 201: Volume, ...problemResponses(400, 401, 403, 409, 503) },
      },
    },
    async (request, reply) => {
      const volume = await createVolume(app.docker, policy, protectLabel, request.body);
      request.audit.target = volume.name;
      return reply.code(201).send(volume);
    },
  );

  app.get(
    '/:name',
    {
      schema: {
        tags,
        summary: 'Inspect a volume',
        params: VolumeParams,
        response: { 200: Volume, ...problemResponses(400, 401, 403, 404, 503) },
      },
    },
    async (request) => toVolume(await app.docker.inspectVolume(request.params.name)),
  );

  app.delete(
    '/:name',
    {
      config: { audit: 'volume.remove' },
      schema: {
        tags,
        summary: 'Remove a volume',
        description: 'A volume in use by a container is a 409.',
        params: VolumeParams,
        querystring: RemoveVolumeQuery,
        response: { 200: ActionResult, ...problemResponses(400, 401, 403, 404, 409, 503) },
      },
    },
    async (request) => removeVolume(app.docker, guard, request.params.name, request.query.force),
  );
};
