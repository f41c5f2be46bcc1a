import { problemResponses } from '@repo/service-kit';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { IdempotencyHeaders, PortOnePaymentSchema } from '../../schemas/common.ts';
import { contextOf } from '../../service-context.ts';
import {
  BillingKeyListSchema,
  CustomerSchema,
  CustomerUidParams,
  IssueBillingKeyBody,
  ListBillingKeysQuery,
  PayBody,
  ScheduleBody,
  ScheduleListSchema,
  ScheduleResultSchema,
  SchedulesQuery,
  UnscheduleBody,
} from './schemas.ts';
import {
  deleteBillingKey,
  getBillingKey,
  issueBillingKey,
  listBillingKeys,
  listSchedules,
  payWithBillingKey,
  schedulePayments,
  unschedulePayments,
} from './service.ts';

const tags = ['subscriptions'];
const upstream = [401, 403, 502, 503, 504] as const;

export const subscriptionRoutes: FastifyPluginAsyncZod = async (app) => {
  // `DELETE /schedule/{customer_uid}` takes an optional JSON body (the seed's curl sends one); a
  // DELETE that declares JSON but sends nothing means "no body", not a parse error.
  const json = app.getDefaultJsonParser('error', 'ignore');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (request.method === 'DELETE' && (body as string).trim() === '') return done(null, undefined);
    return json(request, body as string, done);
  });

  app.get(
    '/',
    {
      schema: {
        tags,
        summary: 'List billing keys from our store',
        querystring: ListBillingKeysQuery,
        response: { 200: BillingKeyListSchema, ...problemResponses(400, 401, 403) },
      },
    },
    async (request) => listBillingKeys(contextOf(app, request), request.query),
  );

  app.get(
    '/billing-key/:customer_uid',
    {
      schema: {
        tags,
        summary: 'Get a billing key from PortOne',
        params: CustomerUidParams,
        response: { 200: CustomerSchema, ...problemResponses(400, 404, ...upstream) },
      },
    },
    async (request) => getBillingKey(contextOf(app, request), request.params.customer_uid),
  );

  app.post(
    '/billing-key',
    {
      config: { idempotent: true },
      schema: {
        tags,
        summary: 'Issue a billing key from card details',
        description: 'Card number, expiry, birth date and password digits go to PortOne only: never stored or logged.',
        headers: IdempotencyHeaders,
        body: IssueBillingKeyBody,
        response: { 201: CustomerSchema, ...problemResponses(400, 409, 422, ...upstream) },
      },
    },
    async (request, reply) => reply.code(201).send(await issueBillingKey(contextOf(app, request), request.body)),
  );

  app.delete(
    '/billing-key/:customer_uid',
    {
      config: { idempotent: true },
      schema: {
        tags,
        summary: 'Delete a billing key at PortOne',
        headers: IdempotencyHeaders,
        params: CustomerUidParams,
        response: { 200: CustomerSchema, ...problemResponses(400, 404, 409, 422, ...upstream) },
      },
    },
    async (request) => deleteBillingKey(contextOf(app, request), request.params.customer_uid),
  );

  app.post(
    '/pay',
    {
      config: { idempotent: true },
      schema: {
        tags,
        summary: 'Charge a billing key once',
        description:
          'A declined charge is a 422 with PortOne’s fail_reason. A lost answer is resolved by looking the merchant_uid up, never by charging again.',
        headers: IdempotencyHeaders,
        body: PayBody,
        response: { 201: PortOnePaymentSchema, ...problemResponses(400, 404, 409, 422, ...upstream) },
      },
    },
    async (request, reply) => reply.code(201).send(await payWithBillingKey(contextOf(app, request), request.body)),
  );

  app.get(
    '/schedule/:customer_uid',
    {
      schema: {
        tags,
        summary: 'List scheduled payments of a customer at PortOne',
        description:
          'Window on schedule_at: from (inclusive) .. to (exclusive); default now − 90 days .. now + 90 days.',
        params: CustomerUidParams,
        querystring: SchedulesQuery,
        response: { 200: ScheduleListSchema, ...problemResponses(400, 404, 422, ...upstream) },
      },
    },
    async (request) => listSchedules(contextOf(app, request), request.params.customer_uid, request.query),
  );

  app.post(
    '/schedule',
    {
      config: { idempotent: true },
      schema: {
        tags,
        summary: 'Schedule billing-key payments',
        headers: IdempotencyHeaders,
        body: ScheduleBody,
        response: { 201: z.array(ScheduleResultSchema), ...problemResponses(400, 409, 422, ...upstream) },
      },
    },
    async (request, reply) => reply.code(201).send(await schedulePayments(contextOf(app, request), request.body)),
  );

  app.delete(
    '/schedule/:customer_uid',
    {
      config: { idempotent: true },
      schema: {
        tags,
        summary: 'Revoke scheduled payments of a customer',
        description:
          'Body `{merchant_uid: [...]}` is optional; without it every pending schedule of the customer is revoked.',
        headers: IdempotencyHeaders,
        params: CustomerUidParams,
        body: UnscheduleBody,
        response: { 200: z.array(ScheduleResultSchema), ...problemResponses(400, 404, 409, 422, ...upstream) },
      },
    },
    async (request) => unschedulePayments(contextOf(app, request), request.params.customer_uid, request.body),
  );
};
