import type { Payment } from '@repo/portone-client';
import { problemResponses } from '@repo/service-kit';
import type { FastifyRouteSchemaDef } from 'fastify/types/schema.js';
import { type FastifyPluginAsyncZod, serializerCompiler } from 'fastify-type-provider-zod';
import type { ZodType } from 'zod';
import { IdempotencyHeaders } from '../../schemas/common.ts';
import { contextOf } from '../../service-context.ts';
import { paymentRaw } from '../../store/payment-columns.ts';
import { cancelPayment } from './cancel.service.ts';
import {
  CancelBody,
  FindQuery,
  ImpUidParams,
  ListPaymentsQuery,
  MerchantUidParams,
  PaymentListSchema,
  PortOnePaymentSchema,
  PrepareBody,
  PreparedSchema,
  VbankBody,
  VerifiedSchema,
  VerifyBody,
} from './schemas.ts';
import { fetchPayment, findPayment, issueVbank, listPayments, preparePayment } from './service.ts';
import { verifyPayment } from './verify.service.ts';

const tags = ['payments'];
/** What every route that reaches PortOne may answer besides its own errors. */
const upstream = [401, 403, 502, 503, 504] as const;

/**
 * For the routes that answer a payment straight from PortOne (lookup, find): the 200 answer is the
 * payment's JSON text, the one already made to compare it with the stored copy (paymentRaw). The
 * client has already parsed the payment against PortOne's schema, which is stricter than the route's
 * (loose) one, so the zod serializer's second parse only copied it to give the same text (~3% of a
 * lookup's CPU, bench/). Problem answers keep the zod serializer.
 */
function paymentSerializer<T>(route: FastifyRouteSchemaDef<T>): (data: unknown) => string {
  return route.httpStatus === '200'
    ? (data) => paymentRaw(data as Payment)
    : serializerCompiler(route as FastifyRouteSchemaDef<ZodType>);
}

export const paymentRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/',
    {
      schema: {
        tags,
        summary: 'List payments from our store',
        description: 'Payments the gateway has seen (lookups, webhooks, charges), newest first. Does not call PortOne.',
        querystring: ListPaymentsQuery,
        response: { 200: PaymentListSchema, ...problemResponses(400, 401, 403) },
      },
    },
    async (request) => listPayments(contextOf(app, request), request.query),
  );

  app.get(
    '/:imp_uid',
    {
      schema: {
        tags,
        summary: 'Get a payment from PortOne by imp_uid',
        description: 'Fetched from PortOne (the source of truth) and stored.',
        params: ImpUidParams,
        response: { 200: PortOnePaymentSchema, ...problemResponses(400, 404, ...upstream) },
      },
      serializerCompiler: paymentSerializer,
    },
    async (request) => fetchPayment(contextOf(app, request), request.params.imp_uid),
  );

  app.get(
    '/find/:merchant_uid',
    {
      schema: {
        tags,
        summary: 'Find the latest payment for a merchant_uid at PortOne',
        params: MerchantUidParams,
        querystring: FindQuery,
        response: { 200: PortOnePaymentSchema, ...problemResponses(400, 404, ...upstream) },
      },
      serializerCompiler: paymentSerializer,
    },
    async (request) => findPayment(contextOf(app, request), request.params.merchant_uid, request.query.status),
  );

  app.post(
    '/prepare',
    {
      config: { idempotent: true },
      schema: {
        tags,
        summary: 'Pre-register the amount of an order (forgery prevention)',
        headers: IdempotencyHeaders,
        body: PrepareBody,
        response: { 201: PreparedSchema, ...problemResponses(400, 409, 422, ...upstream) },
      },
    },
    async (request, reply) => {
      const prepared = await preparePayment(contextOf(app, request), request.body);
      return reply.code(201).send(prepared);
    },
  );

  app.post(
    '/cancel',
    {
      config: { idempotent: true },
      schema: {
        tags,
        summary: 'Cancel a payment fully or partially',
        description:
          'By imp_uid or merchant_uid. Never refunds more than the balance PortOne reports, even under concurrent requests (row lock + PortOne checksum).',
        headers: IdempotencyHeaders,
        body: CancelBody,
        response: { 200: PortOnePaymentSchema, ...problemResponses(400, 404, 409, 422, ...upstream) },
      },
    },
    async (request) => cancelPayment(contextOf(app, request), request.body, request.caller.name),
  );

  app.post(
    '/vbank',
    {
      config: { idempotent: true },
      schema: {
        tags,
        summary: 'Issue a virtual account',
        description:
          'vbank_due defaults to now + VBANK_DUE_DAYS; PortOne picks the default channel unless channel_key/pg is given.',
        headers: IdempotencyHeaders,
        body: VbankBody,
        response: { 201: PortOnePaymentSchema, ...problemResponses(400, 409, 422, ...upstream) },
      },
    },
    async (request, reply) => {
      const payment = await issueVbank(contextOf(app, request), request.body);
      return reply.code(201).send(payment);
    },
  );

  app.post(
    '/verify',
    {
      schema: {
        tags,
        summary: 'Verify a payment against the expected amount, currency and status',
        description:
          'Compares PortOne’s payment with the caller’s values or what was prepared for its merchant_uid. A mismatch is a 422 carrying expected and actual values; with CANCEL_FORGED_PAYMENTS a forged paid payment is cancelled.',
        body: VerifyBody,
        response: { 200: VerifiedSchema, ...problemResponses(400, 404, 422, ...upstream) },
      },
    },
    async (request) => verifyPayment(contextOf(app, request), request.body, request.caller.name),
  );
};
