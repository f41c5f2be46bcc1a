import type { Payment } from '@repo/portone-client';
import type { Insertable } from 'kysely';
import { fromDecimal, hundredths, toDbBool, toDbJson, toDbTime } from './codec.ts';
import type { Db, Trx } from './database.ts';
import type { ChangeCause } from './notification-event.repository.ts';
import type { PaymentRow, PaymentTable } from './payment.table.ts';
import { newCancelRows, paymentColumns } from './payment-columns.ts';
import { notifyPaymentChange } from './payment-events.ts';
import { dialectOf, inTransaction } from './sql.ts';

/** `sandbox`: verify refused a test-channel payment (ACCEPT_SANDBOX_PAYMENTS off). */
export type VerificationStatus = 'unverified' | 'verified' | 'mismatch' | 'sandbox';

// ---------------------------------------------------------------------------------------------------
// The ordering rule

/** Where a payment stands: its status and cumulative cancelled amount. */
interface PaymentProgress {
  status: string;
  cancelAmount: number;
}

/**
 * ready → failed → paid → cancelled. `failed → paid` is forward (PayPal/Paymentwall approve late);
 * a partial cancel stays `cancelled` with a growing cancel amount (notes §4.1).
 */
const STATUS_ORDER: Readonly<Record<string, number>> = { ready: 0, failed: 1, paid: 2, cancelled: 3 };

/**
 * True when a snapshot `to` may replace the stored `from`: its status is not earlier in the lifecycle
 * and its cancel amount is not smaller. Equal states count as forward (a re-sync may carry new
 * details such as a receipt URL). A status we do not know never replaces one we know.
 */
function isForwardTransition(from: PaymentProgress, to: PaymentProgress): boolean {
  if (hundredths(to.cancelAmount) < hundredths(from.cancelAmount)) return false;
  const fromRank = STATUS_ORDER[from.status];
  const toRank = STATUS_ORDER[to.status];
  if (toRank === undefined) return fromRank === undefined;
  return fromRank === undefined || toRank >= fromRank;
}

// ---------------------------------------------------------------------------------------------------
// Writes

async function selectPaymentRow(db: Db, impUid: string, lock: boolean): Promise<PaymentRow | undefined> {
  const query = db.selectFrom('payments').selectAll().where('imp_uid', '=', impUid);
  // SQLite has no row locks; its transactions already hold the database write lock (BEGIN IMMEDIATE).
  return (lock && dialectOf(db) === 'mysql' ? query.forUpdate() : query).executeTakeFirst();
}

/** A payment's stored row (undefined: none), as upsertPaymentFromPortOne first reads it. */
export function readStoredPayment(db: Db, impUid: string): Promise<PaymentRow | undefined> {
  return selectPaymentRow(db, impUid, false);
}

export interface UpsertPaymentResult {
  /**
   * inserted: first sighting; updated: the snapshot moved the payment forward; unchanged: PortOne
   * said exactly what we hold (nothing written); stale: kept ours.
   */
  outcome: 'inserted' | 'updated' | 'unchanged' | 'stale';
  /** cancel_history entries stored for the first time by this call. */
  newCancellationIds: string[];
  /** What the store held before (status, cancel amount); undefined when the payment was new. */
  previous?: { status: string; cancelAmount: number };
}

/**
 * Stores what PortOne says about a payment: inserts it, or replaces our copy only when the snapshot
 * moves it forward (isForwardTransition); otherwise our copy stays and the outcome is `stale`. Its
 * cancel_history entries are added to payment_cancels either way (they are facts, keyed by
 * cancellation_id). Verification fields are ours and never touched here. Runs in the caller's
 * transaction or its own (locking an existing payment row on MySQL; re-run if two first inserts race).
 */
export async function upsertPaymentFromPortOne(
  db: Db,
  payment: Payment,
  options: {
    now?: Date;
    /** Attributed to newly seen cancel entries. */
    requestedBy?: string;
    /** Why the store is being told (sent to notification subscribers); default `lookup`. */
    cause?: ChangeCause;
    /**
     * The payment's row as `readStoredPayment` read it while PortOne was being asked, instead of
     * reading it now. Only a hint, as the plain read is: a row that changed since is read again (and
     * locked) in the transaction, and one inserted since makes the insert a duplicate key and a re-run.
     */
    held?: Promise<PaymentRow | undefined>;
  } = {},
): Promise<UpsertPaymentResult> {
  const columns = paymentColumns(payment);
  // The common read-through case: PortOne says exactly what we hold. A plain read settles it without
  // a locking transaction (the snapshot and its cancels are always written together).
  const current = await (options.held ?? selectPaymentRow(db, payment.imp_uid, false));
  if (current && current.raw === columns.raw) {
    return { outcome: 'unchanged', newCancellationIds: [] };
  }
  // The read just made found no row: the first try inserts without reading again (one round trip
  // fewer for a payment seen for the first time); a re-run reads as any other.
  let missing = current === undefined;
  return inTransaction(db, async (trx) => {
    const now = toDbTime(options.now ?? new Date());
    // Lock the row only once it exists: a locking read of a missing key takes a gap lock on
    // InnoDB, and two first inserts of different payments into the same gap then deadlock (seen
    // under load). A missing row is inserted straight away; a concurrent first insert of the same
    // imp_uid makes that a duplicate key, and the transaction is re-run against the stored row.
    const existing = missing
      ? undefined
      : (await selectPaymentRow(trx, payment.imp_uid, false)) && (await selectPaymentRow(trx, payment.imp_uid, true));
    missing = false;
    const written = { imp_uid: payment.imp_uid, ...columns };
    let outcome: UpsertPaymentResult['outcome'];
    if (!existing) {
      const row: Insertable<PaymentTable> = { ...written, created_at: now, updated_at: now };
      await trx.insertInto('payments').values(row).execute();
      outcome = 'inserted';
    } else if (existing.raw === columns.raw) {
      // Every column derives from PortOne's payload: the same payload means nothing to write, so a
      // read-through lookup of an unchanged payment costs no write (and no commit flush).
      outcome = 'unchanged';
    } else if (
      isForwardTransition(
        { status: existing.status, cancelAmount: fromDecimal(existing.cancel_amount) },
        { status: payment.status, cancelAmount: payment.cancel_amount },
      )
    ) {
      await trx
        .updateTable('payments')
        .set({ ...columns, updated_at: now })
        .where('imp_uid', '=', payment.imp_uid)
        .execute();
      outcome = 'updated';
    } else {
      outcome = 'stale';
    }

    const newCancellationIds = await insertNewCancels(trx, payment, now, options.requestedBy ?? null);
    const previous = existing && { status: existing.status, cancelAmount: fromDecimal(existing.cancel_amount) };
    // The row holds what was just written: no need to read it back. (Unchanged or stale: no change to tell.)
    if (outcome === 'inserted' || outcome === 'updated') {
      await notifyPaymentChange(trx, existing, written, options.cause ?? 'lookup');
    }
    return { outcome, newCancellationIds, previous };
  });
}

/** Adds the cancel_history entries payment_cancels does not hold yet; returns their ids. */
async function insertNewCancels(
  trx: Trx,
  payment: Payment,
  now: string,
  requestedBy: string | null,
): Promise<string[]> {
  if (!payment.cancel_history?.length) return [];
  const stored = await trx
    .selectFrom('payment_cancels')
    .select('cancellation_id')
    .where('imp_uid', '=', payment.imp_uid)
    .execute();
  const rows = newCancelRows(payment, new Set(stored.map((r) => r.cancellation_id)), now, requestedBy);
  if (rows.length > 0) await trx.insertInto('payment_cancels').values(rows).execute();
  return rows.map((r) => r.cancellation_id);
}

export interface VerificationInput {
  status: Exclude<VerificationStatus, 'unverified'>;
  /** True when PortOne's amount/currency disagree with what we expected (notes §13.5). */
  forged: boolean;
  /** What was compared, for operators (expected vs actual); stored as JSON. */
  detail?: unknown;
  at?: Date;
}

/** Records our verdict on a payment. Returns false when the payment is not stored. */
export async function markVerification(db: Db, impUid: string, verdict: VerificationInput): Promise<boolean> {
  const at = toDbTime(verdict.at ?? new Date());
  const result = await db
    .updateTable('payments')
    .set({
      verification_status: verdict.status,
      forged: toDbBool(verdict.forged),
      verified_at: at,
      verification_detail: verdict.detail === undefined ? null : toDbJson(verdict.detail),
      updated_at: at,
    })
    .where('imp_uid', '=', impUid)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

// ---------------------------------------------------------------------------------------------------
// Reads

export async function isPaymentStored(db: Db, impUid: string): Promise<boolean> {
  const row = await db.selectFrom('payments').select('imp_uid').where('imp_uid', '=', impUid).executeTakeFirst();
  return row !== undefined;
}

/** imp_uids of the attempts on a merchant_uid the gateway had stored before `before`. */
export async function impUidsStoredBefore(db: Db, merchantUid: string, before: Date): Promise<string[]> {
  const rows = await db
    .selectFrom('payments')
    .select('imp_uid')
    .where('merchant_uid', '=', merchantUid)
    .where('created_at', '<', toDbTime(before))
    .execute();
  return rows.map((r) => r.imp_uid);
}

export interface ListPaymentsQuery {
  status?: string;
  /** Inclusive bounds on when we first stored the payment (created_at). */
  from?: Date;
  to?: Date;
  /** 1-based. */
  page: number;
  limit: number;
}

/** A page of payments, newest first, with the total matching the filter. */
export async function listPayments(db: Db, query: ListPaymentsQuery): Promise<{ total: number; rows: PaymentRow[] }> {
  let filtered = db.selectFrom('payments');
  if (query.status !== undefined) filtered = filtered.where('status', '=', query.status);
  if (query.from !== undefined) filtered = filtered.where('created_at', '>=', toDbTime(query.from));
  if (query.to !== undefined) filtered = filtered.where('created_at', '<=', toDbTime(query.to));
  const counted = await filtered.select((eb) => eb.fn.countAll<number | string>().as('total')).executeTakeFirst();
  const rows = await filtered
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('imp_uid', 'desc')
    .limit(query.limit)
    .offset((Math.max(1, query.page) - 1) * query.limit)
    .execute();
  return { total: Number(counted?.total ?? 0), rows };
}
