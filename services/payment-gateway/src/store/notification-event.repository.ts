import { randomBytes } from 'node:crypto';
import { fromBigIntId, toDbJson, toDbTime } from './codec.ts';
import type { Db, Trx } from './database.ts';
import { deleteIds } from './sql.ts';

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
 *
 * Two INSERT … SELECTs from the endpoints table, rather than a read of the endpoints and two inserts:
 * the event row exists only if some endpoint is enabled, and the deliveries are one per enabled
 * endpoint, so the endpoints are never read into the process (nor cached, which several replicas could
 * not keep current). On InnoDB both take shared locks on the endpoint rows they read, so an endpoint
 * cannot be enabled or disabled between the two: the event and its deliveries agree.
 */
export async function enqueueEvent(trx: Trx, event: NewEvent, now: Date = new Date()): Promise<number | undefined> {
  const at = toDbTime(now);
  const payload = { type: event.type, timestamp: now.toISOString(), data: { ...event.data, cause: event.cause } };
  const enabled = trx.selectFrom('notification_endpoints').where('enabled', '=', 1);
  const inserted = await trx
    .insertInto('notification_events')
    .columns(['message_id', 'type', 'subject', 'cause', 'payload', 'created_at'])
    .expression(
      enabled
        .select((eb) => [
          eb.val(`msg_${randomBytes(16).toString('hex')}`).as('message_id'),
          eb.val(event.type).as('type'),
          eb.val(event.subject).as('subject'),
          eb.val(event.cause).as('cause'),
          eb.val(toDbJson(payload)).as('payload'),
          eb.val(at).as('created_at'),
        ])
        .limit(1),
    )
    .executeTakeFirstOrThrow();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) return undefined;
  const eventId = fromBigIntId(inserted.insertId ?? 0n);
  await trx
    .insertInto('notification_deliveries')
    .columns(['event_id', 'endpoint_id', 'subject', 'status', 'attempts', 'next_attempt_at', 'created_at'])
    .expression(
      enabled.select((eb) => [
        eb.val(eventId).as('event_id'),
        'id',
        eb.val(event.subject).as('subject'),
        eb.val('pending').as('status'),
        eb.val(0).as('attempts'),
        eb.val(at).as('next_attempt_at'),
        eb.val(at).as('created_at'),
      ]),
    )
    .execute();
  return eventId;
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
