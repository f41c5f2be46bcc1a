import type { z } from 'zod';
import {
  NotificationDeliveryNotFoundError,
  NotificationEndpointFromConfigError,
  NotificationEndpointNotFoundError,
} from '../../errors.ts';
import type { ServiceContext } from '../../service-context.ts';
import {
  type DeliveryRecord,
  getDelivery,
  listDeliveries,
  replayDelivery,
} from '../../store/notification-delivery.repository.ts';
import {
  createEndpoint,
  deleteEndpoint,
  type EndpointRecord,
  getEndpoint,
  listEndpoints,
  newSecret,
  rotateEndpointSecret,
  updateEndpoint,
} from '../../store/notification-endpoint.repository.ts';
import type { CreateEndpointBody, ListDeliveriesQuery, UpdateEndpointBody } from './schemas.ts';

export function toApiEndpoint(e: EndpointRecord) {
  return {
    id: e.id,
    url: e.url,
    description: e.description,
    enabled: e.enabled,
    source: e.source,
    active_secrets: e.activeSecrets,
    created_at: e.createdAt.toISOString(),
    updated_at: e.updatedAt.toISOString(),
  };
}

function toApiDelivery(d: DeliveryRecord) {
  return {
    id: d.id,
    event_id: d.eventId,
    webhook_id: d.messageId,
    type: d.type,
    subject: d.subject,
    cause: d.cause,
    endpoint_id: d.endpointId,
    status: d.status,
    attempts: d.attempts,
    next_attempt_at: d.nextAttemptAt.toISOString(),
    last_attempt_at: d.lastAttemptAt?.toISOString() ?? null,
    last_status_code: d.lastStatusCode,
    last_error: d.lastError,
    delivered_at: d.deliveredAt?.toISOString() ?? null,
    created_at: d.createdAt.toISOString(),
    payload: d.payload,
  };
}

async function apiEndpoint(ctx: ServiceContext, id: string): Promise<EndpointRecord> {
  const endpoint = await getEndpoint(ctx.db, id);
  if (!endpoint) throw new NotificationEndpointNotFoundError(`no notification endpoint ${id}`);
  if (endpoint.source === 'config') {
    throw new NotificationEndpointFromConfigError(`endpoint ${id} comes from NOTIFY_ENDPOINTS; change it there`);
  }
  return endpoint;
}

export async function listApiEndpoints(ctx: ServiceContext) {
  return { items: (await listEndpoints(ctx.db)).map(toApiEndpoint) };
}

export async function showEndpoint(ctx: ServiceContext, id: string) {
  const endpoint = await getEndpoint(ctx.db, id);
  if (!endpoint) throw new NotificationEndpointNotFoundError(`no notification endpoint ${id}`);
  return toApiEndpoint(endpoint);
}

export async function addEndpoint(ctx: ServiceContext, body: z.output<typeof CreateEndpointBody>) {
  const secret = newSecret();
  const endpoint = await createEndpoint(ctx.db, {
    url: body.url,
    description: body.description ?? null,
    secrets: [secret],
    source: 'api',
  });
  ctx.log.info({ endpointId: endpoint.id }, 'notification endpoint created');
  return { endpoint: toApiEndpoint(endpoint), secret };
}

export async function changeEndpoint(ctx: ServiceContext, id: string, body: z.output<typeof UpdateEndpointBody>) {
  await apiEndpoint(ctx, id);
  const updated = await updateEndpoint(ctx.db, id, body);
  if (!updated) throw new NotificationEndpointNotFoundError(`no notification endpoint ${id}`);
  return toApiEndpoint(updated);
}

export async function removeEndpoint(ctx: ServiceContext, id: string): Promise<void> {
  await apiEndpoint(ctx, id);
  await deleteEndpoint(ctx.db, id);
  ctx.log.info({ endpointId: id }, 'notification endpoint deleted');
}

export async function rotateSecret(ctx: ServiceContext, id: string) {
  await apiEndpoint(ctx, id);
  const rotated = await rotateEndpointSecret(ctx.db, id, ctx.config.NOTIFY_SECRET_ROLLOVER_SECONDS);
  if (!rotated) throw new NotificationEndpointNotFoundError(`no notification endpoint ${id}`);
  ctx.log.info({ endpointId: id }, 'notification endpoint secret rotated');
  return { endpoint: toApiEndpoint(rotated.endpoint), secret: rotated.secret };
}

export async function listApiDeliveries(ctx: ServiceContext, query: z.output<typeof ListDeliveriesQuery>) {
  const { total, items } = await listDeliveries(ctx.db, {
    page: query.page,
    limit: query.limit,
    ...(query.endpoint_id !== undefined ? { endpointId: query.endpoint_id } : {}),
    ...(query.status !== undefined ? { status: query.status } : {}),
    ...(query.imp_uid !== undefined ? { subject: `payment:${query.imp_uid}` } : {}),
  });
  return { total, page: query.page, limit: query.limit, items: items.map(toApiDelivery) };
}

export async function showDelivery(ctx: ServiceContext, id: number) {
  const delivery = await getDelivery(ctx.db, id);
  if (!delivery) throw new NotificationDeliveryNotFoundError(`no notification delivery ${id}`);
  return toApiDelivery(delivery);
}

export async function replay(ctx: ServiceContext, id: number) {
  if (!(await getDelivery(ctx.db, id))) throw new NotificationDeliveryNotFoundError(`no notification delivery ${id}`);
  const delivery = await replayDelivery(ctx.db, id);
  if (!delivery) throw new NotificationDeliveryNotFoundError(`no notification delivery ${id}`);
  ctx.log.info({ deliveryId: id }, 'notification delivery replayed');
  return toApiDelivery(delivery);
}
