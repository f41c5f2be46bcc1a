import type { ScheduleResult } from '@repo/portone-client';
import { clip, fromDbTime, fromDecimal, fromNullableDbTime, toDbTime, toDecimal, unixToDbTime } from './codec.ts';
import type { Db, Trx } from './database.ts';
import { type ChangeCause, enqueueEvent } from './notification-event.repository.ts';
import type { ScheduleRow } from './schedule.table.ts';
import { inTransaction } from './sql.ts';

export type ScheduleStatus = 'scheduled' | 'executed' | 'revoked';

export interface ScheduleRecord {
  merchantUid: string;
  customerUid: string;
  scheduleAt: Date;
  amount: number;
  currency: string;
  name: string | null;
  scheduleStatus: string;
  paymentStatus: string | null;
  impUid: string | null;
  executedAt: Date | null;
  revokedAt: Date | null;
  failReason: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export function toScheduleRecord(row: ScheduleRow): ScheduleRecord {
  return {
    merchantUid: row.merchant_uid,
    customerUid: row.customer_uid,
    scheduleAt: fromDbTime(row.schedule_at),
    amount: fromDecimal(row.amount),
    currency: row.currency,
    name: row.name,
    scheduleStatus: row.schedule_status,
    paymentStatus: row.payment_status,
    impUid: row.imp_uid,
    executedAt: fromNullableDbTime(row.executed_at),
    revokedAt: fromNullableDbTime(row.revoked_at),
    failReason: row.fail_reason,
    createdAt: fromDbTime(row.created_at),
    updatedAt: fromDbTime(row.updated_at),
  };
}

/**
 * Stores PortOne's answer for each schedule (after scheduling, a webhook or a look-up), replacing our
 * copy: schedules legitimately move back (a revoked schedule can be re-booked), so PortOne's latest
 * word wins. Runs as one transaction.
 */
export async function upsertSchedules(
  db: Db,
  schedules: readonly ScheduleResult[],
  options: { now?: Date; cause?: ChangeCause } = {},
): Promise<ScheduleRecord[]> {
  if (schedules.length === 0) return [];
  const now = toDbTime(options.now ?? new Date());
  const write = async (trx: Trx) => {
    const before = new Map(
      (
        await trx
          .selectFrom('payment_schedules')
          .select(['merchant_uid', 'schedule_status'])
          .where(
            'merchant_uid',
            'in',
            schedules.map((s) => s.merchant_uid),
          )
          .execute()
      ).map((r) => [r.merchant_uid, r.schedule_status]),
    );
    for (const s of schedules) {
      const values = {
        customer_uid: s.customer_uid,
        schedule_at: unixToDbTime(s.schedule_at) ?? now,
        amount: toDecimal(s.amount),
        currency: s.currency || 'KRW',
        name: clip(s.name, 255),
        schedule_status: s.schedule_status,
        payment_status: s.payment_status || null,
        imp_uid: s.imp_uid || null,
        executed_at: unixToDbTime(s.executed_at),
        revoked_at: unixToDbTime(s.revoked_at),
        fail_reason: s.fail_reason ?? null,
        updated_at: now,
      };
      const updated = await trx
        .updateTable('payment_schedules')
        .set(values)
        .where('merchant_uid', '=', s.merchant_uid)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) {
        await trx
          .insertInto('payment_schedules')
          .values({ merchant_uid: s.merchant_uid, ...values, created_at: now })
          .execute();
      }
    }
    const rows = await trx
      .selectFrom('payment_schedules')
      .selectAll()
      .where(
        'merchant_uid',
        'in',
        schedules.map((s) => s.merchant_uid),
      )
      .execute();
    const byId = new Map(rows.map((r) => [r.merchant_uid, toScheduleRecord(r)]));
    for (const record of byId.values()) {
      await notifyScheduleChange(trx, before.get(record.merchantUid), record, options.cause ?? 'lookup');
    }
    return schedules.map((s) => byId.get(s.merchant_uid)).filter((r): r is ScheduleRecord => r !== undefined);
  };
  return inTransaction(db, write);
}

export async function getSchedule(db: Db, merchantUid: string): Promise<ScheduleRecord | undefined> {
  const row = await db
    .selectFrom('payment_schedules')
    .selectAll()
    .where('merchant_uid', '=', merchantUid)
    .executeTakeFirst();
  return row ? toScheduleRecord(row) : undefined;
}

export interface ListSchedulesQuery {
  status?: ScheduleStatus;
  /** schedule_at >= from */
  from?: Date;
  /** schedule_at < to (PortOne's convention) */
  to?: Date;
  page: number;
  limit: number;
}

/** A customer's schedules, latest schedule_at first (as PortOne orders them). */
export async function listSchedulesByCustomer(
  db: Db,
  customerUid: string,
  query: ListSchedulesQuery,
): Promise<{ total: number; items: ScheduleRecord[] }> {
  let filtered = db.selectFrom('payment_schedules').where('customer_uid', '=', customerUid);
  if (query.status !== undefined) filtered = filtered.where('schedule_status', '=', query.status);
  if (query.from !== undefined) filtered = filtered.where('schedule_at', '>=', toDbTime(query.from));
  if (query.to !== undefined) filtered = filtered.where('schedule_at', '<', toDbTime(query.to));
  const counted = await filtered.select((eb) => eb.fn.countAll<number | string>().as('total')).executeTakeFirst();
  const rows = await filtered
    .selectAll()
    .orderBy('schedule_at', 'desc')
    .orderBy('merchant_uid', 'desc')
    .limit(query.limit)
    .offset((Math.max(1, query.page) - 1) * query.limit)
    .execute();
  return { total: Number(counted?.total ?? 0), items: rows.map(toScheduleRecord) };
}

/**
 * Marks still-`scheduled` schedules revoked: the given merchant_uids, or all of a customer's pending
 * ones when only `customerUid` is given (PortOne's unschedule semantics). Returns the revoked rows.
 */
export async function markSchedulesRevoked(
  db: Db,
  target: { customerUid?: string; merchantUids?: readonly string[]; revokedAt?: Date },
): Promise<ScheduleRecord[]> {
  if (target.customerUid === undefined && (target.merchantUids?.length ?? 0) === 0) {
    throw new Error('markSchedulesRevoked needs a customerUid or merchantUids');
  }
  if (target.merchantUids && target.merchantUids.length === 0) return [];
  const at = toDbTime(target.revokedAt ?? new Date());
  const work = async (trx: Trx) => {
    let pending = trx.selectFrom('payment_schedules').select('merchant_uid').where('schedule_status', '=', 'scheduled');
    if (target.customerUid !== undefined) pending = pending.where('customer_uid', '=', target.customerUid);
    if (target.merchantUids) pending = pending.where('merchant_uid', 'in', [...target.merchantUids]);
    const ids = (await pending.execute()).map((r) => r.merchant_uid);
    if (ids.length === 0) return [];
    await trx
      .updateTable('payment_schedules')
      .set({ schedule_status: 'revoked', revoked_at: at, updated_at: at })
      .where('merchant_uid', 'in', ids)
      .where('schedule_status', '=', 'scheduled')
      .execute();
    const rows = await trx
      .selectFrom('payment_schedules')
      .selectAll()
      .where('merchant_uid', 'in', ids)
      .orderBy('merchant_uid')
      .execute();
    const records = rows.map(toScheduleRecord);
    for (const record of records) await notifyScheduleChange(trx, 'scheduled', record, 'api');
    return records;
  };
  return inTransaction(db, work);
}

/** Puts an executed or revoked schedule in the notification outbox, in the transaction that stored it. */
async function notifyScheduleChange(
  trx: Trx,
  before: string | undefined,
  after: ScheduleRecord,
  cause: ChangeCause,
): Promise<void> {
  if (before === after.scheduleStatus) return;
  if (after.scheduleStatus !== 'executed' && after.scheduleStatus !== 'revoked') return;
  await enqueueEvent(trx, {
    type: after.scheduleStatus === 'executed' ? 'schedule.executed' : 'schedule.revoked',
    subject: `schedule:${after.merchantUid}`,
    cause,
    data: {
      merchant_uid: after.merchantUid,
      customer_uid: after.customerUid,
      schedule_status: after.scheduleStatus,
      previous_status: before ?? null,
      schedule_at: after.scheduleAt.toISOString(),
      amount: after.amount,
      currency: after.currency,
      payment_status: after.paymentStatus,
      imp_uid: after.impUid,
      executed_at: after.executedAt?.toISOString() ?? null,
      revoked_at: after.revokedAt?.toISOString() ?? null,
      fail_reason: after.failReason,
    },
  });
}
