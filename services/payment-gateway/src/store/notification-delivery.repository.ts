import { randomBytes } from 'node:crypto';
import { fromBigIntId, fromDbJson, fromDbTime, fromNullableDbTime, toDbTime } from './codec.ts';
import type { Db } from './database.ts';
import { deleteIds } from './sql.ts';

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

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
 * Claims the given deliveries for `leaseMs` in one autocommit UPDATE (several replicas: each row goes
 * to one of them). Returns the claim's token, which the outcomes are written with, and the ids it won:
 * all of them in the common case (the UPDATE changed as many rows), else those carrying the token.
 */
export async function claimDeliveries(
  db: Db,
  ids: readonly number[],
  leaseMs: number,
  now: Date,
): Promise<{ token: string; ids: number[] }> {
  const token = randomBytes(16).toString('hex');
  if (ids.length === 0) return { token, ids: [] };
  const at = toDbTime(now);
  const result = await db
    .updateTable('notification_deliveries')
    .set({ claimed_until: toDbTime(new Date(now.getTime() + leaseMs)), claim_token: token })
    .where('id', 'in', [...ids])
    .where('status', '=', 'pending')
    .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<=', at)]))
    .executeTakeFirst();
  const claimed = Number(result.numUpdatedRows);
  if (claimed === ids.length) return { token, ids: [...ids] };
  if (claimed === 0) return { token, ids: [] };
  const rows = await db
    .selectFrom('notification_deliveries')
    .select('id')
    .where('id', 'in', [...ids])
    .where('claim_token', '=', token)
    .execute();
  return { token, ids: rows.map((r) => fromBigIntId(r.id)) };
}

export interface AttemptOutcome {
  id: number;
  status: DeliveryStatus;
  statusCode: number | null;
  error: string | null;
  /** When `status` stays pending. */
  nextAttemptAt?: Date;
}

/**
 * Records the outcomes of one claim's attempts, made by `at`, and releases the claim (only where it is
 * still ours). Outcomes that write the same values (every delivery answered 2xx with one status code)
 * are one UPDATE. Returns how many were recorded.
 */
export async function recordAttempts(
  db: Db,
  token: string,
  at: Date,
  outcomes: readonly AttemptOutcome[],
): Promise<number> {
  const groups = new Map<string, AttemptOutcome[]>();
  for (const o of outcomes) {
    const key = JSON.stringify([o.status, o.statusCode, o.error, o.nextAttemptAt?.getTime()]);
    groups.set(key, [...(groups.get(key) ?? []), o]);
  }
  const stamp = toDbTime(at);
  let recorded = 0;
  for (const [outcome, ...others] of groups.values()) {
    if (!outcome) continue;
    const result = await db
      .updateTable('notification_deliveries')
      .set((eb) => ({
        status: outcome.status,
        attempts: eb('attempts', '+', 1),
        claimed_until: null,
        claim_token: null,
        last_attempt_at: stamp,
        last_status_code: outcome.statusCode,
        last_error: outcome.error?.slice(0, 500) ?? null,
        ...(outcome.status === 'delivered' ? { delivered_at: stamp } : {}),
        ...(outcome.nextAttemptAt ? { next_attempt_at: toDbTime(outcome.nextAttemptAt) } : {}),
      }))
      .where('id', 'in', [outcome.id, ...others.map((o) => o.id)])
      .where('claim_token', '=', token)
      .executeTakeFirst();
    recorded += Number(result.numUpdatedRows);
  }
  return recorded;
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
    .set({ status: 'pending', next_attempt_at: at, claimed_until: null, claim_token: null, created_at: at })
    .where('id', '=', id)
    .execute();
  return getDelivery(db, id);
}

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
