import { problemResponses } from '@repo/service-kit';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Guard } from '../../policy/guard.ts';
import { ActionResult } from '../../schemas/common.ts';
import {
  ConnectBody,
  CreateNetworkBody,
  DisconnectBody,
  ListNetworksQuery,
  Network,
  NetworkList,
  NetworkParams,
} from './schemas.ts';
import { connect, createNetwork, disconnect, listNetworks, removeNetwork, toNetwork } from './service.ts';

const tags = ['networks'];

export interface NetworkRoutesOptions {
  guard: Guard;
  protectLabel: string;
}

export const networkRoutes: FastifyPluginAsyncZod<NetworkRoutesOptions> = async (app, { guard, protectLabel }) => {
  app.get(
    '/',
    {
      schema: {
        tags,
        summary: 'List networks',
        querystring: ListNetworksQuery,
        response: { 200: NetworkList, ...problemResponses(400, 401, 403, 503) },
      },
    },
    async (request) => listNetworks(app.docker, request.query),
  );

  app.post(
    '/',
    {
      config: { audit: 'network.create' },
      schema: {
        tags,
        summary: 'Create a network',
        description: 'A name already in use is a 409.',
        body: CreateNetworkBody,
        response: { 201: Network, ...problemResponses(400, 401, 403, 409, 503) },
      },
    },
    async (request, reply) => reply.code(201).send(await createNetwork(app.docker, protectLabel, request.body)),
  );

  app.get(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Inspect a network',
        params: NetworkParams,
        response: { 200: Network, ...problemResponses(400, 401, 403, 404, 503) },
      },
    },
    async (request) => toNetwork(await app.docker.inspectNetwork(request.params.id)),
  );

  app.post(
    '/:id/connect',
    {
      config: { audit: 'network.connect' },
      schema: {
        tags,
        summary: 'Connect a container to a network',
        params: NetworkParams,
        body: ConnectBody,
        response: { 200: ActionResult, ...problemResponses(400, 401, 403, 404, 409, 503) },
      },
    },
    async (request) => {
      request.audit.target = `${request.params.id}<-${request.body.container}`;
      return connect(app.docker, guard, request.params.id, request.body.container, request.body.aliases);
    },
  );

  app.post(
    '/:id/disconnect',
    {
      config: { audit: 'network.disconnect' },
      schema: {
        tags,
        summary: 'Disconnect a container from a network',
        params: NetworkParams,
        body: DisconnectBody,
        response: { 200: ActionResult, ...problemResponses(400, 401, 403, 404, 409, 503) },
      },
    },
    async (request) => {
      request.audit.target = `${request.params.id}->${request.body.container}`;
      return disconnect(app.docker, guard, request.params.id, request.body.container, request.body.force);
    },
  );

  app.delete(
    '/:id',
    {
      config: { audit: 'network.remove' },
      schema: {
        tags,
        summary: 'Remove a network',
        description: 'A network with connected containers, or a predefined one, is a 409.',
        params: NetworkParams,
        response: { 200: ActionResult, ...problemResponses(400, 401, 403, 404, 409, 503) },
      },
    },
    async (request) => removeNetwork(app.docker, request.params.id),
  );
};
