import { randomBytes } from 'node:crypto';
import type { Selectable } from 'kysely';
import {
  fromBigIntId,
  fromDbBool,
  fromDbJson,
  fromDbTime,
  fromNullableDbTime,
  toDbBool,
  toDbJson,
  toDbTime,
} from './codec.ts';
import type { Db, Trx } from './database.ts';
import type { NotificationEndpointTable } from './notification.table.ts';
import { deleteIds } from './sql.ts';

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

interface StoredSecret {
  secret: string;
  created_at: string;
  /** Set when a newer secret replaced it: signatures with it stop after this instant. */
  expires_at: string | null;
}

// ---------------------------------------------------------------------------------------------------
// Events: what changed, decided from the stored state before and after

/** What made the store change; sent as `data.cause`. */
export type ChangeCause = 'webhook' | 'lookup' | 'cancel' | 'charge' | 'reconciliation' | 'api';

export type EventType =
  | 'payment.paid'
  | 'payment.cancelled'
  | 'payment.failed'
  | 'payment.vbank_issued'
  | 'schedule.executed'
  | 'schedule.revoked';

export const EVENT_TYPES: readonly EventType[] = [
  'payment.paid',
  'payment.cancelled',
  'payment.failed',
  'payment.vbank_issued',
  'schedule.executed',
  'schedule.revoked',
];

export interface PaymentState {
  status: string;
  /** Hundredths, so comparisons are exact. */
  cancelHundredths: number;
  vbankNum: string | null;
}

/**
 * The event a payment's change is, or undefined when subscribers need not hear of it (same state, a
 * detail such as a receipt URL, or a `ready` that is not a virtual account).
 */
export function paymentEventType(before: PaymentState | undefined, after: PaymentState): EventType | undefined {
  const sameStatus = before?.status === after.status;
  if (after.status === 'cancelled') {
    return !sameStatus || after.cancelHundredths > (before?.cancelHundredths ?? 0) ? 'payment.cancelled' : undefined;
  }
  if (sameStatus) return before?.vbankNum == null && after.vbankNum != null ? 'payment.vbank_issued' : undefined;
  if (after.status === 'paid') return 'payment.paid';
  if (after.status === 'failed') return 'payment.failed';
  if (after.status === 'ready' && after.vbankNum != null) return 'payment.vbank_issued';
  return undefined;
}

export interface NewEvent {
  type: EventType;
  subject: string;
  cause: ChangeCause;
  data: Record<string, unknown>;
}

/**
 * Writes an event to the outbox with one pending delivery per enabled endpoint, in the caller's
 * transaction (the one that changed the payment), so the change and its notification commit or roll
 * back together. With no endpoint subscribed nothing is written: there is nobody to tell.
 */
export async function enqueueEvent(trx: Trx, event: NewEvent, now: Date = new Date()): Promise<number | undefined> {
  const endpoints = await trx.selectFrom('notification_endpoints').select('id').where('enabled', '=', 1).execute();
  if (endpoints.length === 0) return undefined;
  const at = toDbTime(now);
  const payload = { type: event.type, timestamp: now.toISOString(), data: { ...event.data, cause: event.cause } };
  const inserted = await trx
    .insertInto('notification_events')
    .values({
      message_id: `msg_${randomBytes(16).toString('hex')}`,
      type: event.type,
      subject: event.subject,
      cause: event.cause,
      payload: toDbJson(payload),
      created_at: at,
    })
    .executeTakeFirstOrThrow();
  const eventId = fromBigIntId(inserted.insertId ?? 0n);
  await trx
    .insertInto('notification_deliveries')
    .values(
      endpoints.map((e) => ({
        event_id: eventId,
        endpoint_id: e.id,
        subject: event.subject,
        status: 'pending',
        attempts: 0,
        next_attempt_at: at,
        created_at: at,
      })),
    )
    .execute();
  return eventId;
}

// ---------------------------------------------------------------------------------------------------
// Endpoints

export interface EndpointRecord {
  id: string;
  url: string;
  description: string | null;
  enabled: boolean;
  source: 'api' | 'config';
  /** How many secrets currently sign (more than one during a rotation). */
  activeSecrets: number;
  createdAt: Date;
  updatedAt: Date;
}

function parseSecrets(text: string): StoredSecret[] {
  return (fromDbJson(text) as StoredSecret[] | null) ?? [];
}

/** Secrets that still sign at `now`, newest first. */
export function activeSecrets(text: string, now: Date): string[] {
  const at = now.getTime();
  return parseSecrets(text)
    .filter((s) => s.expires_at === null || Date.parse(s.expires_at) > at)
    .map((s) => s.secret);
}

function toEndpointRecord(row: Selectable<NotificationEndpointTable>, now = new Date()): EndpointRecord {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    enabled: fromDbBool(row.enabled),
    source: row.source === 'config' ? 'config' : 'api',
    activeSecrets: activeSecrets(row.secrets, now).length,
    createdAt: fromDbTime(row.created_at),
    updatedAt: fromDbTime(row.updated_at),
  };
}

/** A Standard Webhooks secret: `whsec_` + base64 of 24 random bytes. */
export function newSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

export async function createEndpoint(
  db: Db,
  input: { id?: string; url: string; description?: string | null; secrets: string[]; source: 'api' | 'config' },
  now: Date = new Date(),
): Promise<EndpointRecord> {
  const at = toDbTime(now);
  const row = {
    id: input.id ?? `ep_${randomBytes(10).toString('hex')}`,
    url: input.url,
    description: input.description ?? null,
    secrets: toDbJson(input.secrets.map((secret) => ({ secret, created_at: now.toISOString(), expires_at: null }))),
    enabled: toDbBool(true),
    source: input.source,
    created_at: at,
    updated_at: at,
  };
  await db.insertInto('notification_endpoints').values(row).execute();
  return toEndpointRecord(row, now);
}

/** Config endpoints: the listed ones are created or updated (secrets as listed), the others disabled. */
export async function syncConfigEndpoints(
  db: Db,
  endpoints: readonly { id: string; url: string; secrets: readonly string[] }[],
  now: Date = new Date(),
): Promise<void> {
  const at = toDbTime(now);
  for (const e of endpoints) {
    const secrets = toDbJson(e.secrets.map((secret) => ({ secret, created_at: now.toISOString(), expires_at: null })));
    const updated = await db
      .updateTable('notification_endpoints')
      .set({ url: e.url, secrets, enabled: 1, source: 'config', updated_at: at })
      .where('id', '=', e.id)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) {
      await createEndpoint(db, { id: e.id, url: e.url, secrets: [...e.secrets], source: 'config' }, now);
    }
  }
  let stale = db
    .updateTable('notification_endpoints')
    .set({ enabled: 0, updated_at: at })
    .where('source', '=', 'config')
    .where('enabled', '=', 1);
  if (endpoints.length > 0)
    stale = stale.where(
      'id',
      'not in',
      endpoints.map((e) => e.id),
    );
  await stale.execute();
}

export async function listEndpoints(db: Db): Promise<EndpointRecord[]> {
  const rows = await db.selectFrom('notification_endpoints').selectAll().orderBy('created_at').orderBy('id').execute();
  return rows.map((r) => toEndpointRecord(r));
}

export async function getEndpointRow(db: Db, id: string) {
  return db.selectFrom('notification_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function getEndpoint(db: Db, id: string): Promise<EndpointRecord | undefined> {
  const row = await getEndpointRow(db, id);
  return row ? toEndpointRecord(row) : undefined;
}

export async function updateEndpoint(
  db: Db,
  id: string,
  change: { url?: string; description?: string | null; enabled?: boolean },
): Promise<EndpointRecord | undefined> {
  const set: Partial<{ url: string; description: string | null; enabled: number; updated_at: string }> = {
    updated_at: toDbTime(new Date()),
  };
  if (change.url !== undefined) set.url = change.url;
  if (change.description !== undefined) set.description = change.description;
  if (change.enabled !== undefined) set.enabled = toDbBool(change.enabled);
  await db.updateTable('notification_endpoints').set(set).where('id', '=', id).execute();
  return getEndpoint(db, id);
}

/**
 * Rotation: a new secret signs from now on; the current ones keep signing (each delivery carries
 * every active signature) until `rolloverSeconds` from now, so a subscriber can switch without a gap.
 */
export async function rotateEndpointSecret(
  db: Db,
  id: string,
  rolloverSeconds: number,
  now: Date = new Date(),
): Promise<{ endpoint: EndpointRecord; secret: string } | undefined> {
  const row = await getEndpointRow(db, id);
  if (!row) return undefined;
  const until = new Date(now.getTime() + rolloverSeconds * 1000).toISOString();
  const secret = newSecret();
  const kept = parseSecrets(row.secrets)
    .filter((s) => s.expires_at === null || Date.parse(s.expires_at) > now.getTime())
    .map((s) => ({ ...s, expires_at: s.expires_at ?? until }));
  const secrets = toDbJson([{ secret, created_at: now.toISOString(), expires_at: null }, ...kept]);
  await db
    .updateTable('notification_endpoints')
    .set({ secrets, updated_at: toDbTime(now) })
    .where('id', '=', id)
    .execute();
  const updated = await getEndpointRow(db, id);
  return updated ? { endpoint: toEndpointRecord(updated, now), secret } : undefined;
}

/** Removes an endpoint; its pending deliveries are marked failed (nobody left to send them to). */
export async function deleteEndpoint(db: Db, id: string): Promise<boolean> {
  const result = await db.deleteFrom('notification_endpoints').where('id', '=', id).executeTakeFirst();
  await db
    .updateTable('notification_deliveries')
    .set({ status: 'failed', last_error: 'endpoint deleted', claimed_until: null })
    .where('endpoint_id', '=', id)
    .where('status', '=', 'pending')
    .execute();
  return Number(result.numDeletedRows) > 0;
}

// ---------------------------------------------------------------------------------------------------
// Deliveries

export interface DueDelivery {
  id: number;
  endpointId: string;
  url: string;
  secrets: string;
  messageId: string;
  payload: string;
  attempts: number;
  createdAt: Date;
}

/**
 * Deliveries that may be sent now: pending, due, not claimed by a live sender, and first in line for
 * their endpoint and subject (no earlier delivery of the same payment to the same endpoint is still
 * pending), so each endpoint receives one payment's events in order. Oldest first.
 */
export async function findDueDeliveries(db: Db, now: Date, limit: number): Promise<DueDelivery[]> {
  const at = toDbTime(now);
  const rows = await db
    .selectFrom('notification_deliveries as d')
    .innerJoin('notification_events as e', 'e.id', 'd.event_id')
    .innerJoin('notification_endpoints as p', 'p.id', 'd.endpoint_id')
    .select(['d.id', 'd.endpoint_id', 'd.attempts', 'd.created_at', 'p.url', 'p.secrets', 'e.message_id', 'e.payload'])
    .where('d.status', '=', 'pending')
    .where('d.next_attempt_at', '<=', at)
    .where((eb) => eb.or([eb('d.claimed_until', 'is', null), eb('d.claimed_until', '<=', at)]))
    .where('p.enabled', '=', 1)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('notification_deliveries as earlier')
            .select('earlier.id')
            .whereRef('earlier.endpoint_id', '=', 'd.endpoint_id')
            .whereRef('earlier.subject', '=', 'd.subject')
            .where('earlier.status', '=', 'pending')
            .whereRef('earlier.id', '<', 'd.id'),
        ),
      ),
    )
    .orderBy('d.id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: fromBigIntId(r.id),
    endpointId: r.endpoint_id,
    url: r.url,
    secrets: r.secrets,
    messageId: r.message_id,
    payload: r.payload,
    attempts: r.attempts,
    createdAt: fromDbTime(r.created_at),
  }));
}

/**
 * Claims one delivery for `leaseMs` in one autocommit UPDATE (several replicas: only one wins); the
 * returned expiry identifies the claim when the outcome is written. Undefined when someone else has it.
 */
export async function claimDelivery(db: Db, id: number, leaseMs: number, now: Date): Promise<string | undefined> {
  const at = toDbTime(now);
  const until = toDbTime(new Date(now.getTime() + leaseMs));
  const result = await db
    .updateTable('notification_deliveries')
    .set({ claimed_until: until })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<=', at)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0 ? until : undefined;
}

export interface AttemptOutcome {
  status: DeliveryStatus;
  statusCode: number | null;
  error: string | null;
  at: Date;
  /** When `status` stays pending. */
  nextAttemptAt?: Date;
}

/** Records one attempt's outcome and releases the claim (only while the claim is still ours). */
export async function recordAttempt(db: Db, id: number, claim: string, outcome: AttemptOutcome): Promise<boolean> {
  const at = toDbTime(outcome.at);
  const result = await db
    .updateTable('notification_deliveries')
    .set((eb) => ({
      status: outcome.status,
      attempts: eb('attempts', '+', 1),
      claimed_until: null,
      last_attempt_at: at,
      last_status_code: outcome.statusCode,
      last_error: outcome.error?.slice(0, 500) ?? null,
      ...(outcome.status === 'delivered' ? { delivered_at: at } : {}),
      ...(outcome.nextAttemptAt ? { next_attempt_at: toDbTime(outcome.nextAttemptAt) } : {}),
    }))
    .where('id', '=', id)
    .where('claimed_until', '=', claim)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export interface DeliveryRecord {
  id: number;
  eventId: number;
  messageId: string;
  type: string;
  subject: string;
  cause: string;
  endpointId: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: Date;
  lastAttemptAt: Date | null;
  lastStatusCode: number | null;
  lastError: string | null;
  deliveredAt: Date | null;
  createdAt: Date;
  payload: unknown;
}

function deliveryQuery(db: Db) {
  return db
    .selectFrom('notification_deliveries as d')
    .innerJoin('notification_events as e', 'e.id', 'd.event_id')
    .select([
      'd.id',
      'd.event_id',
      'd.endpoint_id',
      'd.subject',
      'd.status',
      'd.attempts',
      'd.next_attempt_at',
      'd.last_attempt_at',
      'd.last_status_code',
      'd.last_error',
      'd.delivered_at',
      'd.created_at',
      'e.message_id',
      'e.type',
      'e.cause',
      'e.payload',
    ]);
}

type DeliveryRow = Awaited<ReturnType<ReturnType<typeof deliveryQuery>['executeTakeFirstOrThrow']>>;

function toDeliveryRecord(r: DeliveryRow): DeliveryRecord {
  return {
    id: fromBigIntId(r.id),
    eventId: fromBigIntId(r.event_id),
    messageId: r.message_id,
    type: r.type,
    subject: r.subject,
    cause: r.cause,
    endpointId: r.endpoint_id,
    status: r.status as DeliveryStatus,
    attempts: r.attempts,
    nextAttemptAt: fromDbTime(r.next_attempt_at),
    lastAttemptAt: fromNullableDbTime(r.last_attempt_at),
    lastStatusCode: r.last_status_code,
    lastError: r.last_error,
    deliveredAt: fromNullableDbTime(r.delivered_at),
    createdAt: fromDbTime(r.created_at),
    payload: fromDbJson(r.payload),
  };
}

export interface ListDeliveriesQuery {
  endpointId?: string;
  status?: DeliveryStatus;
  subject?: string;
  page: number;
  limit: number;
}

/** The delivery log, newest first. */
export async function listDeliveries(
  db: Db,
  query: ListDeliveriesQuery,
): Promise<{ total: number; items: DeliveryRecord[] }> {
  let filtered = deliveryQuery(db);
  if (query.endpointId !== undefined) filtered = filtered.where('d.endpoint_id', '=', query.endpointId);
  if (query.status !== undefined) filtered = filtered.where('d.status', '=', query.status);
  if (query.subject !== undefined) filtered = filtered.where('d.subject', '=', query.subject);
  const counted = await filtered
    .clearSelect()
    .select((eb) => eb.fn.countAll<number | string>().as('total'))
    .executeTakeFirst();
  const rows = await filtered
    .orderBy('d.id', 'desc')
    .limit(query.limit)
    .offset((query.page - 1) * query.limit)
    .execute();
  return { total: Number(counted?.total ?? 0), items: rows.map(toDeliveryRecord) };
}

export async function getDelivery(db: Db, id: number): Promise<DeliveryRecord | undefined> {
  const row = await deliveryQuery(db).where('d.id', '=', id).executeTakeFirst();
  return row ? toDeliveryRecord(row) : undefined;
}

/**
 * Replay: the delivery goes back to pending, due now, with a fresh give-up clock (created_at); the
 * message keeps its webhook-id, so a subscriber that already has it can recognise it.
 */
export async function replayDelivery(db: Db, id: number, now: Date = new Date()): Promise<DeliveryRecord | undefined> {
  const at = toDbTime(now);
  await db
    .updateTable('notification_deliveries')
    .set({ status: 'pending', next_attempt_at: at, claimed_until: null, created_at: at })
    .where('id', '=', id)
    .execute();
  return getDelivery(db, id);
}

// ---------------------------------------------------------------------------------------------------
// Retention

/** One batch: finished (delivered or failed) deliveries created before `before`. Pending ones stay. */
export async function deleteNotificationDeliveriesBefore(db: Db, before: Date, limit: number): Promise<number> {
  const rows = await db
    .selectFrom('notification_deliveries')
    .select('id')
    .where('created_at', '<', toDbTime(before))
    .where('status', '!=', 'pending')
    .orderBy('id')
    .limit(limit)
    .execute();
  return deleteIds(
    db,
    'notification_deliveries',
    rows.map((r) => r.id),
  );
}

/** One batch: events created before `before` that no delivery refers to any more. */
export async function deleteNotificationEventsBefore(db: Db, before: Date, limit: number): Promise<number> {
  const rows = await db
    .selectFrom('notification_events as e')
    .select('e.id')
    .where('e.created_at', '<', toDbTime(before))
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('notification_deliveries as d').select('d.id').whereRef('d.event_id', '=', 'e.id'))),
    )
    .orderBy('e.id')
    .limit(limit)
    .execute();
  return deleteIds(
    db,
    'notification_events',
    rows.map((r) => r.id),
  );
}
