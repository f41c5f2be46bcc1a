import { problemResponses } from '@repo/service-kit';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { contextOf } from '../../service-context.ts';
import {
  CreateEndpointBody,
  DeliveryListSchema,
  DeliveryParams,
  DeliverySchema,
  EndpointListSchema,
  EndpointParams,
  EndpointSchema,
  EndpointWithSecretSchema,
  ListDeliveriesQuery,
  UpdateEndpointBody,
} from './schemas.ts';
import {
  addEndpoint,
  changeEndpoint,
  listApiDeliveries,
  listApiEndpoints,
  removeEndpoint,
  replay,
  rotateSecret,
  showDelivery,
  showEndpoint,
} from './service.ts';

const tags = ['notifications'];

/** Subscriptions of internal services to payment changes, and the delivery log. */
export const notificationRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/endpoints',
    {
      schema: {
        tags,
        summary: 'List notification endpoints',
        description: 'Secrets are never shown here; only how many currently sign.',
        response: { 200: EndpointListSchema, ...problemResponses(401, 403) },
      },
    },
    async (request) => listApiEndpoints(contextOf(app, request)),
  );

  app.post(
    '/endpoints',
    {
      schema: {
        tags,
        summary: 'Subscribe an endpoint to payment changes',
        description:
          'Every later change of a stored payment (paid, cancelled, failed, vbank issued) or schedule (executed, revoked) is POSTed to the URL, signed per Standard Webhooks with the secret in this answer, which is not shown again.',
        body: CreateEndpointBody,
        response: { 201: EndpointWithSecretSchema, ...problemResponses(400, 401, 403) },
      },
    },
    async (request, reply) => reply.code(201).send(await addEndpoint(contextOf(app, request), request.body)),
  );

  app.get(
    '/endpoints/:id',
    {
      schema: {
        tags,
        summary: 'Get a notification endpoint',
        params: EndpointParams,
        response: { 200: EndpointSchema, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => showEndpoint(contextOf(app, request), request.params.id),
  );

  app.patch(
    '/endpoints/:id',
    {
      schema: {
        tags,
        summary: 'Change or disable a notification endpoint',
        description: 'A disabled endpoint gets no new events; its pending deliveries wait until it is enabled again.',
        params: EndpointParams,
        body: UpdateEndpointBody,
        response: { 200: EndpointSchema, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => changeEndpoint(contextOf(app, request), request.params.id, request.body),
  );

  app.delete(
    '/endpoints/:id',
    {
      schema: {
        tags,
        summary: 'Delete a notification endpoint',
        description: 'Its pending deliveries are marked failed.',
        params: EndpointParams,
        response: { 204: z.null().describe('deleted'), ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      await removeEndpoint(contextOf(app, request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/endpoints/:id/rotate-secret',
    {
      schema: {
        tags,
        summary: "Rotate an endpoint's signing secret",
        description:
          'The new secret signs at once; the previous ones keep signing too (several signatures in webhook-signature) for NOTIFY_SECRET_ROLLOVER_SECONDS.',
        params: EndpointParams,
        response: { 200: EndpointWithSecretSchema, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => rotateSecret(contextOf(app, request), request.params.id),
  );

  app.get(
    '/deliveries',
    {
      schema: {
        tags,
        summary: 'The delivery log',
        description: 'One row per event and endpoint, newest first: state, attempts, last answer.',
        querystring: ListDeliveriesQuery,
        response: { 200: DeliveryListSchema, ...problemResponses(400, 401, 403) },
      },
    },
    async (request) => listApiDeliveries(contextOf(app, request), request.query),
  );

  app.get(
    '/deliveries/:id',
    {
      schema: {
        tags,
        summary: 'One delivery',
        params: DeliveryParams,
        response: { 200: DeliverySchema, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => showDelivery(contextOf(app, request), request.params.id),
  );

  app.post(
    '/deliveries/:id/replay',
    {
      schema: {
        tags,
        summary: 'Send a delivery again',
        description:
          'Back to pending and due now, with a fresh give-up time; the webhook-id stays the same, so a subscriber that already has the message can recognise it.',
        params: DeliveryParams,
        response: { 202: DeliverySchema, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => reply.code(202).send(await replay(contextOf(app, request), request.params.id)),
  );
};
