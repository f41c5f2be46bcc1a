import { z } from 'zod';
import { ImpUid, PageMeta, PagingQuery } from '../../schemas/common.ts';

const EndpointId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,40}$/, 'letters, digits, _ or -, at most 40')
  .meta({ description: 'endpoint id', example: 'ep_3f2a9c0d1e4b5a6f7081' });
const EndpointUrl = z
  .url({ protocol: /^https?$/, error: 'an http:// or https:// URL' })
  .max(2048)
  .meta({ description: 'where events are POSTed', example: 'http://orders.internal:8080/payment-events' });

export const EndpointParams = z.object({ id: EndpointId });

export const CreateEndpointBody = z.strictObject({
  url: EndpointUrl,
  description: z.string().max(255).nullish(),
});

export const UpdateEndpointBody = z
  .strictObject({
    url: EndpointUrl.optional(),
    description: z.string().max(255).nullish(),
    enabled: z.boolean().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, 'give at least one of url, description, enabled');

export const EndpointSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    description: z.string().nullable(),
    enabled: z.boolean(),
    source: z.enum(['api', 'config']).meta({ description: 'config: from NOTIFY_ENDPOINTS, read-only here' }),
    active_secrets: z.number().int().meta({ description: 'secrets signing now (2+ during a rotation)' }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'NotificationEndpoint' });

export const EndpointListSchema = z.object({ items: z.array(EndpointSchema) });

export const EndpointWithSecretSchema = z
  .object({
    endpoint: EndpointSchema,
    secret: z.string().meta({
      description: 'the signing secret (whsec_…): shown only in this answer; keep it with the subscriber',
    }),
  })
  .meta({ id: 'NotificationEndpointWithSecret' });

export const DeliveryStatusSchema = z.enum(['pending', 'delivered', 'failed']);

export const DeliveryParams = z.object({ id: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER) });

export const ListDeliveriesQuery = z.object({
  ...PagingQuery,
  endpoint_id: EndpointId.optional(),
  status: DeliveryStatusSchema.optional(),
  imp_uid: ImpUid.optional(),
});

export const DeliverySchema = z
  .object({
    id: z.number().int(),
    event_id: z.number().int(),
    webhook_id: z.string().meta({ description: 'the webhook-id header: the same on every attempt and replay' }),
    type: z.string(),
    subject: z.string(),
    cause: z.string(),
    endpoint_id: z.string(),
    status: DeliveryStatusSchema,
    attempts: z.number().int(),
    next_attempt_at: z.string(),
    last_attempt_at: z.string().nullable(),
    last_status_code: z.number().int().nullable(),
    last_error: z.string().nullable(),
    delivered_at: z.string().nullable(),
    created_at: z.string(),
    payload: z.unknown().meta({ description: 'the body sent: { type, timestamp, data }' }),
  })
  .meta({ id: 'NotificationDelivery' });

export const DeliveryListSchema = z.object({ ...PageMeta, items: z.array(DeliverySchema) });
