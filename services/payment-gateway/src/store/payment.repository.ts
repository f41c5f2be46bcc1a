import { createHash } from 'node:crypto';
import type { Generated, Insertable, Selectable } from 'kysely';
import {
  type BoolColumn,
  clip,
  type DateTimeColumn,
  type DecimalColumn,
  fromDbBool,
  fromDbJson,
  fromDbTime,
  fromDecimal,
  fromNullableDbTime,
  fromNullableDecimal,
  maskCardNumber,
  type NullableDateTimeColumn,
  type NullableDecimalColumn,
  toDbBool,
  toDbJson,
  toDbTime,
  toDecimal,
  toNullableDecimal,
  unixToDbTime,
} from './codec.ts';
import { type Db, dialectOf, inTransaction, type Trx } from './database.ts';
import {
  type ChangeCause,
  enqueueEvent,
  type PaymentState,
  paymentEventType,
} from './notification-event.repository.ts';

// ---------------------------------------------------------------------------------------------------
// Tables

/** `payments`: our mirror of PortOne's Payment (notes §4), plus our own verification verdict. */
export interface PaymentTable {
  imp_uid: string;
  merchant_uid: string;
  status: string;
  amount: DecimalColumn;
  cancel_amount: DecimalColumn;
  currency: string;
  pay_method: string | null;
  channel: string | null;
  pg_provider: string | null;
  emb_pg_provider: string | null;
  pg_tid: string | null;
  apply_num: string | null;
  name: string | null;
  buyer_name: string | null;
  buyer_email: string | null;
  /** PII: stored because PortOne returns it; never log it. */
  buyer_tel: string | null;
  buyer_addr: string | null;
  buyer_postcode: string | null;
  card_code: string | null;
  card_name: string | null;
  /** Masked only (see maskCardNumber). */
  card_number: string | null;
  card_quota: number | null;
  card_type: number | null;
  vbank_code: string | null;
  vbank_name: string | null;
  vbank_num: string | null;
  vbank_holder: string | null;
  vbank_date: NullableDateTimeColumn;
  customer_uid: string | null;
  customer_uid_usage: string | null;
  sandbox: BoolColumn;
  started_at: NullableDateTimeColumn;
  paid_at: NullableDateTimeColumn;
  failed_at: NullableDateTimeColumn;
  cancelled_at: NullableDateTimeColumn;
  fail_reason: string | null;
  cancel_reason: string | null;
  receipt_url: string | null;
  custom_data: string | null;
  /** PortOne's last accepted answer as JSON text (PortOne never returns secrets). */
  raw: string;
  verification_status: Generated<string>;
  forged: Generated<number>;
  verified_at: NullableDateTimeColumn;
  verification_detail: string | null;
  /** A cancel's claim (claimPaymentForCancel): until when its holder is presumed alive; NULL = free. */
  cancel_claimed_until: Generated<string | null>;
  created_at: DateTimeColumn;
  updated_at: DateTimeColumn;
}

/** `payment_cancels`: one row per PortOne cancel_history entry. */
export interface CancelTable {
  cancellation_id: string;
  imp_uid: string;
  amount: DecimalColumn;
  tax_free: NullableDecimalColumn;
  vat_amount: NullableDecimalColumn;
  reason: string | null;
  pg_tid: string | null;
  receipt_url: string | null;
  cancelled_at: DateTimeColumn;
  /** Who asked us to cancel (API caller id); NULL when learnt from PortOne without knowing who. */
  requested_by: string | null;
  created_at: DateTimeColumn;
}

export type PaymentRow = Selectable<PaymentTable>;
export type CancelRow = Selectable<CancelTable>;

// ---------------------------------------------------------------------------------------------------
// PortOne input (snake_case, as the API returns it; unknown fields are kept in `raw`)

export interface PortOnePaymentCancel {
  cancellation_id?: string | null;
  pg_tid?: string | null;
  amount: number;
  cancelled_at: number;
  reason?: string | null;
  receipt_url?: string | null;
  tax_free?: number | null;
  vat_amount?: number | null;
}

export interface PortOnePayment {
  imp_uid: string;
  merchant_uid: string;
  amount: number;
  cancel_amount: number;
  currency: string;
  status: string;
  pay_method?: string | null;
  channel?: string | null;
  pg_provider?: string | null;
  emb_pg_provider?: string | null;
  pg_tid?: string | null;
  apply_num?: string | null;
  name?: string | null;
  buyer_name?: string | null;
  buyer_email?: string | null;
  buyer_tel?: string | null;
  buyer_addr?: string | null;
  buyer_postcode?: string | null;
  card_code?: string | null;
  card_name?: string | null;
  card_number?: string | null;
  card_quota?: number | null;
  card_type?: number | null;
  vbank_code?: string | null;
  vbank_name?: string | null;
  vbank_num?: string | null;
  vbank_holder?: string | null;
  vbank_date?: number | null;
  customer_uid?: string | null;
  customer_uid_usage?: string | null;
  sandbox?: boolean | null;
  started_at?: number | null;
  paid_at?: number | null;
  failed_at?: number | null;
  cancelled_at?: number | null;
  fail_reason?: string | null;
  cancel_reason?: string | null;
  receipt_url?: string | null;
  custom_data?: unknown;
  cancel_history?: PortOnePaymentCancel[] | null;
  [field: string]: unknown;
}

// ---------------------------------------------------------------------------------------------------
// What callers get back

/** `sandbox`: verify refused a test-channel payment (ACCEPT_SANDBOX_PAYMENTS off). */
export type VerificationStatus = 'unverified' | 'verified' | 'mismatch' | 'sandbox';

export interface PaymentRecord {
  impUid: string;
  merchantUid: string;
  status: string;
  amount: number;
  cancelAmount: number;
  /** amount − cancelAmount, computed in hundredths so no float residue appears. */
  cancellableAmount: number;
  currency: string;
  payMethod: string | null;
  channel: string | null;
  pgProvider: string | null;
  embPgProvider: string | null;
  pgTid: string | null;
  applyNum: string | null;
  name: string | null;
  buyerName: string | null;
  buyerEmail: string | null;
  buyerTel: string | null;
  buyerAddr: string | null;
  buyerPostcode: string | null;
  cardCode: string | null;
  cardName: string | null;
  cardNumber: string | null;
  cardQuota: number | null;
  cardType: number | null;
  vbankCode: string | null;
  vbankName: string | null;
  vbankNum: string | null;
  vbankHolder: string | null;
  vbankDate: Date | null;
  customerUid: string | null;
  customerUidUsage: string | null;
  sandbox: boolean;
  startedAt: Date | null;
  paidAt: Date | null;
  failedAt: Date | null;
  cancelledAt: Date | null;
  failReason: string | null;
  cancelReason: string | null;
  receiptUrl: string | null;
  customData: string | null;
  verificationStatus: VerificationStatus;
  forged: boolean;
  verifiedAt: Date | null;
  verificationDetail: unknown;
  /** PortOne's last accepted answer, parsed. */
  raw: unknown;
  createdAt: Date;
  updatedAt: Date;
}

export interface CancelRecord {
  cancellationId: string;
  impUid: string;
  amount: number;
  taxFree: number | null;
  vatAmount: number | null;
  reason: string | null;
  pgTid: string | null;
  receiptUrl: string | null;
  cancelledAt: Date;
  requestedBy: string | null;
  createdAt: Date;
}

export interface PaymentDetail extends PaymentRecord {
  /** Oldest first. */
  cancels: CancelRecord[];
}

function hundredths(amount: number): number {
  return Math.round(amount * 100);
}

/** The one row → record mapping for payments. */
export function toPaymentRecord(row: PaymentRow): PaymentRecord {
  const amount = fromDecimal(row.amount);
  const cancelAmount = fromDecimal(row.cancel_amount);
  return {
    impUid: row.imp_uid,
    merchantUid: row.merchant_uid,
    status: row.status,
    amount,
    cancelAmount,
    cancellableAmount: Math.max(0, hundredths(amount) - hundredths(cancelAmount)) / 100,
    currency: row.currency,
    payMethod: row.pay_method,
    channel: row.channel,
    pgProvider: row.pg_provider,
    embPgProvider: row.emb_pg_provider,
    pgTid: row.pg_tid,
    applyNum: row.apply_num,
    name: row.name,
    buyerName: row.buyer_name,
    buyerEmail: row.buyer_email,
    buyerTel: row.buyer_tel,
    buyerAddr: row.buyer_addr,
    buyerPostcode: row.buyer_postcode,
    cardCode: row.card_code,
    cardName: row.card_name,
    cardNumber: row.card_number,
    cardQuota: row.card_quota,
    cardType: row.card_type,
    vbankCode: row.vbank_code,
    vbankName: row.vbank_name,
    vbankNum: row.vbank_num,
    vbankHolder: row.vbank_holder,
    vbankDate: fromNullableDbTime(row.vbank_date),
    customerUid: row.customer_uid,
    customerUidUsage: row.customer_uid_usage,
    sandbox: fromDbBool(row.sandbox),
    startedAt: fromNullableDbTime(row.started_at),
    paidAt: fromNullableDbTime(row.paid_at),
    failedAt: fromNullableDbTime(row.failed_at),
    cancelledAt: fromNullableDbTime(row.cancelled_at),
    failReason: row.fail_reason,
    cancelReason: row.cancel_reason,
    receiptUrl: row.receipt_url,
    customData: row.custom_data,
    verificationStatus: row.verification_status as VerificationStatus,
    forged: fromDbBool(row.forged),
    verifiedAt: fromNullableDbTime(row.verified_at),
    verificationDetail: fromDbJson(row.verification_detail),
    raw: fromDbJson(row.raw),
    createdAt: fromDbTime(row.created_at),
    updatedAt: fromDbTime(row.updated_at),
  };
}

/** The one row → record mapping for cancels. */
export function toCancelRecord(row: CancelRow): CancelRecord {
  return {
    cancellationId: row.cancellation_id,
    impUid: row.imp_uid,
    amount: fromDecimal(row.amount),
    taxFree: fromNullableDecimal(row.tax_free),
    vatAmount: fromNullableDecimal(row.vat_amount),
    reason: row.reason,
    pgTid: row.pg_tid,
    receiptUrl: row.receipt_url,
    cancelledAt: fromDbTime(row.cancelled_at),
    requestedBy: row.requested_by,
    createdAt: fromDbTime(row.created_at),
  };
}

// ---------------------------------------------------------------------------------------------------
// The ordering rule

/** Where a payment stands: its status and cumulative cancelled amount. */
export interface PaymentProgress {
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
export function isForwardTransition(from: PaymentProgress, to: PaymentProgress): boolean {
  if (hundredths(to.cancelAmount) < hundredths(from.cancelAmount)) return false;
  const fromRank = STATUS_ORDER[from.status];
  const toRank = STATUS_ORDER[to.status];
  if (toRank === undefined) return fromRank === undefined;
  return fromRank === undefined || toRank >= fromRank;
}

// ---------------------------------------------------------------------------------------------------
// Writes

function customData(value: unknown): string | null {
  if (value == null) return null;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function integerOrNull(value: number | null | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? Math.trunc(value) : null;
}

/** PortOne's fields as column values (everything except our own verification and timestamps). */
function paymentColumns(p: PortOnePayment) {
  return {
    merchant_uid: p.merchant_uid,
    status: p.status,
    amount: toDecimal(p.amount),
    cancel_amount: toDecimal(p.cancel_amount ?? 0),
    currency: p.currency || 'KRW',
    pay_method: p.pay_method ?? null,
    channel: p.channel ?? null,
    pg_provider: p.pg_provider ?? null,
    emb_pg_provider: p.emb_pg_provider ?? null,
    pg_tid: p.pg_tid ?? null,
    apply_num: p.apply_num ?? null,
    name: clip(p.name, 255),
    buyer_name: clip(p.buyer_name, 255),
    buyer_email: clip(p.buyer_email, 255),
    buyer_tel: clip(p.buyer_tel, 32),
    buyer_addr: clip(p.buyer_addr, 255),
    buyer_postcode: clip(p.buyer_postcode, 16),
    card_code: p.card_code ?? null,
    card_name: clip(p.card_name, 64),
    card_number: maskCardNumber(p.card_number),
    card_quota: integerOrNull(p.card_quota),
    card_type: integerOrNull(p.card_type),
    vbank_code: p.vbank_code ?? null,
    vbank_name: clip(p.vbank_name, 64),
    vbank_num: p.vbank_num ?? null,
    vbank_holder: clip(p.vbank_holder, 64),
    vbank_date: unixToDbTime(p.vbank_date),
    customer_uid: p.customer_uid ?? null,
    customer_uid_usage: p.customer_uid_usage ?? null,
    sandbox: toDbBool(p.sandbox === true),
    started_at: unixToDbTime(p.started_at),
    paid_at: unixToDbTime(p.paid_at),
    failed_at: unixToDbTime(p.failed_at),
    cancelled_at: unixToDbTime(p.cancelled_at),
    fail_reason: p.fail_reason ?? null,
    cancel_reason: p.cancel_reason ?? null,
    receipt_url: p.receipt_url ?? null,
    custom_data: customData(p.custom_data),
    raw: toDbJson(p),
  };
}

/**
 * PortOne's cancellation_id has been required since 2024-02; older history entries lack it, so they
 * get a stable id derived from what identifies the entry.
 */
export function cancellationIdOf(impUid: string, entry: PortOnePaymentCancel): string {
  if (entry.cancellation_id) return entry.cancellation_id;
  const digest = createHash('sha256')
    .update(`${impUid}|${entry.pg_tid ?? ''}|${entry.cancelled_at}|${entry.amount}`)
    .digest('hex');
  return `legacy_${digest.slice(0, 40)}`;
}

async function selectPaymentRow(db: Db, impUid: string, lock: boolean): Promise<PaymentRow | undefined> {
  const query = db.selectFrom('payments').selectAll().where('imp_uid', '=', impUid);
  // SQLite has no row locks; its transactions already hold the database write lock (BEGIN IMMEDIATE).
  return (lock && dialectOf(db) === 'mysql' ? query.forUpdate() : query).executeTakeFirst();
}

export interface UpsertPaymentResult {
  /**
   * inserted: first sighting; updated: the snapshot moved the payment forward; unchanged: PortOne
   * said exactly what we hold (nothing written); stale: kept ours.
   */
  outcome: 'inserted' | 'updated' | 'unchanged' | 'stale';
  payment: PaymentRecord;
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
  payment: PortOnePayment,
  options: {
    now?: Date;
    /** Attributed to newly seen cancel entries. */
    requestedBy?: string;
    /** Why the store is being told (sent to notification subscribers); default `lookup`. */
    cause?: ChangeCause;
  } = {},
): Promise<UpsertPaymentResult> {
  const columns = paymentColumns(payment);
  // The common read-through case: PortOne says exactly what we hold. A plain read settles it without
  // a locking transaction (the snapshot and its cancels are always written together).
  const current = await selectPaymentRow(db, payment.imp_uid, false);
  if (current && current.raw === columns.raw) {
    return { outcome: 'unchanged', payment: toPaymentRecord(current), newCancellationIds: [] };
  }
  return inTransaction(db, async (trx) => {
    const now = toDbTime(options.now ?? new Date());
    // Lock the row only once it exists: a locking read of a missing key takes a gap lock on
    // InnoDB, and two first inserts of different payments into the same gap then deadlock (seen
    // under load). A missing row is inserted straight away; a concurrent first insert of the same
    // imp_uid makes that a duplicate key, and the transaction is re-run against the stored row.
    const existing =
      (await selectPaymentRow(trx, payment.imp_uid, false)) && (await selectPaymentRow(trx, payment.imp_uid, true));
    let outcome: UpsertPaymentResult['outcome'];
    if (!existing) {
      const row: Insertable<PaymentTable> = { imp_uid: payment.imp_uid, ...columns, created_at: now, updated_at: now };
      await trx.insertInto('payments').values(row).execute();
      outcome = 'inserted';
    } else if (existing.raw === columns.raw) {
      // Every column derives from PortOne's payload: the same payload means nothing to write, so a
      // read-through lookup of an unchanged payment costs no write (and no commit flush).
      outcome = 'unchanged';
    } else if (
      isForwardTransition(
        { status: existing.status, cancelAmount: fromDecimal(existing.cancel_amount) },
        { status: payment.status, cancelAmount: payment.cancel_amount ?? 0 },
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

    const newCancellationIds = await insertMissingCancels(trx, payment, now, options.requestedBy ?? null);
    const previous = existing && {
      status: existing.status,
      cancelAmount: fromDecimal(existing.cancel_amount),
    };
    if (existing && outcome === 'unchanged' && newCancellationIds.length === 0) {
      return { outcome, payment: toPaymentRecord(existing), newCancellationIds, previous };
    }
    const stored = await selectPaymentRow(trx, payment.imp_uid, false);
    if (!stored) throw new Error(`payment ${payment.imp_uid} vanished inside its own transaction`);
    const record = toPaymentRecord(stored);
    await notifyPaymentChange(trx, existing, record, options.cause ?? 'lookup');
    return { outcome, payment: record, newCancellationIds, previous };
  });
}

function stateOf(row: PaymentRow): PaymentState {
  return { status: row.status, cancelHundredths: hundredths(fromDecimal(row.cancel_amount)), vbankNum: row.vbank_num };
}

/**
 * Puts the change in the notification outbox, in the transaction that made it (a stored payment that
 * changed state: paid, cancelled with its amount, failed, virtual account issued).
 */
async function notifyPaymentChange(
  trx: Trx,
  before: PaymentRow | undefined,
  after: PaymentRecord,
  cause: ChangeCause,
): Promise<void> {
  const type = paymentEventType(before && stateOf(before), {
    status: after.status,
    cancelHundredths: hundredths(after.cancelAmount),
    vbankNum: after.vbankNum,
  });
  if (!type) return;
  const previousCancel = before ? fromDecimal(before.cancel_amount) : 0;
  await enqueueEvent(trx, {
    type,
    subject: `payment:${after.impUid}`,
    cause,
    data: {
      imp_uid: after.impUid,
      merchant_uid: after.merchantUid,
      status: after.status,
      previous_status: before?.status ?? null,
      amount: after.amount,
      currency: after.currency,
      cancel_amount: after.cancelAmount,
      ...(type === 'payment.cancelled'
        ? { cancelled_amount: Math.max(0, hundredths(after.cancelAmount) - hundredths(previousCancel)) / 100 }
        : {}),
      pay_method: after.payMethod,
      paid_at: after.paidAt?.toISOString() ?? null,
      failed_at: after.failedAt?.toISOString() ?? null,
      fail_reason: after.failReason,
      cancelled_at: after.cancelledAt?.toISOString() ?? null,
      cancel_reason: after.cancelReason,
      ...(after.vbankNum != null
        ? {
            vbank: {
              code: after.vbankCode,
              name: after.vbankName,
              num: after.vbankNum,
              holder: after.vbankHolder,
              due: after.vbankDate?.toISOString() ?? null,
            },
          }
        : {}),
    },
  });
}

async function insertMissingCancels(
  trx: Trx,
  payment: PortOnePayment,
  now: string,
  requestedBy: string | null,
): Promise<string[]> {
  const history = payment.cancel_history ?? [];
  if (history.length === 0) return [];
  const known = new Set(
    (
      await trx.selectFrom('payment_cancels').select('cancellation_id').where('imp_uid', '=', payment.imp_uid).execute()
    ).map((r) => r.cancellation_id),
  );
  const rows: Insertable<CancelTable>[] = [];
  for (const entry of history) {
    const id = cancellationIdOf(payment.imp_uid, entry);
    if (known.has(id)) continue;
    known.add(id);
    rows.push({
      cancellation_id: id,
      imp_uid: payment.imp_uid,
      amount: toDecimal(entry.amount),
      tax_free: toNullableDecimal(entry.tax_free),
      vat_amount: toNullableDecimal(entry.vat_amount),
      reason: entry.reason ?? null,
      pg_tid: entry.pg_tid ?? null,
      receipt_url: entry.receipt_url ?? null,
      cancelled_at: unixToDbTime(entry.cancelled_at) ?? now,
      requested_by: requestedBy,
      created_at: now,
    });
  }
  if (rows.length > 0) await trx.insertInto('payment_cancels').values(rows).execute();
  return rows.map((r) => r.cancellation_id);
}

export interface CancelInput {
  impUid: string;
  cancellationId: string;
  amount: number;
  taxFree?: number | null;
  vatAmount?: number | null;
  reason?: string | null;
  pgTid?: string | null;
  receiptUrl?: string | null;
  cancelledAt: Date;
  /** The API caller (or 'portone', 'webhook') that asked for this cancel. */
  requestedBy?: string | null;
}

/**
 * Records one cancellation and moves the payment forward to match: status `cancelled`, cancel amount
 * raised to at least the sum of its recorded cancels, latest reason and time. Idempotent per
 * cancellation_id: a second call only fills in `requested_by` if it was unknown. Runs in the caller's
 * transaction or its own, locking the payment row; throws when the payment is not stored.
 */
export async function recordCancel(
  db: Db,
  cancel: CancelInput,
  options: { cause?: ChangeCause } = {},
): Promise<CancelRecord> {
  return inTransaction(db, async (trx) => {
    const now = toDbTime(new Date());
    const payment = await selectPaymentRow(trx, cancel.impUid, true);
    if (!payment) throw new Error(`cannot record a cancel for unknown payment ${cancel.impUid}`);
    const existing = await trx
      .selectFrom('payment_cancels')
      .selectAll()
      .where('cancellation_id', '=', cancel.cancellationId)
      .executeTakeFirst();
    if (existing) {
      if (existing.requested_by == null && cancel.requestedBy) {
        await trx
          .updateTable('payment_cancels')
          .set({ requested_by: cancel.requestedBy })
          .where('cancellation_id', '=', cancel.cancellationId)
          .execute();
      }
    } else {
      await trx
        .insertInto('payment_cancels')
        .values({
          cancellation_id: cancel.cancellationId,
          imp_uid: cancel.impUid,
          amount: toDecimal(cancel.amount),
          tax_free: toNullableDecimal(cancel.taxFree),
          vat_amount: toNullableDecimal(cancel.vatAmount),
          reason: cancel.reason ?? null,
          pg_tid: cancel.pgTid ?? null,
          receipt_url: cancel.receiptUrl ?? null,
          cancelled_at: toDbTime(cancel.cancelledAt),
          requested_by: cancel.requestedBy ?? null,
          created_at: now,
        })
        .execute();
      const sums = await trx
        .selectFrom('payment_cancels')
        .select('amount')
        .where('imp_uid', '=', cancel.impUid)
        .execute();
      const total = sums.reduce((sum, r) => sum + hundredths(fromDecimal(r.amount)), 0);
      const stored = hundredths(fromDecimal(payment.cancel_amount));
      await trx
        .updateTable('payments')
        .set({
          status: 'cancelled',
          cancel_amount: toDecimal(Math.max(stored, total) / 100),
          cancel_reason: cancel.reason ?? payment.cancel_reason,
          cancelled_at: toDbTime(cancel.cancelledAt),
          updated_at: now,
        })
        .where('imp_uid', '=', cancel.impUid)
        .execute();
      const after = await selectPaymentRow(trx, cancel.impUid, false);
      if (after) await notifyPaymentChange(trx, payment, toPaymentRecord(after), options.cause ?? 'cancel');
    }
    const row = await trx
      .selectFrom('payment_cancels')
      .selectAll()
      .where('cancellation_id', '=', cancel.cancellationId)
      .executeTakeFirstOrThrow();
    return toCancelRecord(row);
  });
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

export async function getPayment(db: Db, impUid: string): Promise<PaymentDetail | undefined> {
  const row = await selectPaymentRow(db, impUid, false);
  if (!row) return undefined;
  return { ...toPaymentRecord(row), cancels: await listCancels(db, impUid) };
}

/** Cancels of one payment, oldest first. */
export async function listCancels(db: Db, impUid: string): Promise<CancelRecord[]> {
  const rows = await db
    .selectFrom('payment_cancels')
    .selectAll()
    .where('imp_uid', '=', impUid)
    .orderBy('cancelled_at', 'asc')
    .orderBy('cancellation_id', 'asc')
    .execute();
  return rows.map(toCancelRecord);
}

/** Every attempt that used this merchant_uid, newest first. */
export async function findPaymentsByMerchantUid(db: Db, merchantUid: string): Promise<PaymentRecord[]> {
  const rows = await db
    .selectFrom('payments')
    .selectAll()
    .where('merchant_uid', '=', merchantUid)
    .orderBy('created_at', 'desc')
    .orderBy('imp_uid', 'desc')
    .execute();
  return rows.map(toPaymentRecord);
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
export async function listPayments(
  db: Db,
  query: ListPaymentsQuery,
): Promise<{ total: number; items: PaymentRecord[] }> {
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
  return { total: Number(counted?.total ?? 0), items: rows.map(toPaymentRecord) };
}

// ---------------------------------------------------------------------------------------------------
// Cancel claims

/** A cancel's hold on its payment; pass it back to release it. */
export interface CancelClaim {
  impUid: string;
  /** The claim's expiry, which also identifies it (a claim taken over after it expired has another). */
  until: Date;
}

/**
 * Claims a payment for one cancel, in one short autocommit UPDATE: it succeeds only when nobody holds
 * the payment or the holder's claim has expired (it died: the claim outlasts any live cancel). Cancels
 * of one payment so take turns without a transaction or a connection held while PortOne answers.
 * Undefined when someone else holds it (or the payment is not stored).
 */
export async function claimPaymentForCancel(
  db: Db,
  impUid: string,
  leaseMs: number,
  now: Date = new Date(),
): Promise<CancelClaim | undefined> {
  const until = new Date(now.getTime() + leaseMs);
  const result = await db
    .updateTable('payments')
    .set({ cancel_claimed_until: toDbTime(until) })
    .where('imp_uid', '=', impUid)
    .where((eb) => eb.or([eb('cancel_claimed_until', 'is', null), eb('cancel_claimed_until', '<=', toDbTime(now))]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0 ? { impUid, until } : undefined;
}

/** Lets the payment go, unless the claim expired and was taken over meanwhile (then it is not ours). */
export async function releaseCancelClaim(db: Db, claim: CancelClaim): Promise<boolean> {
  const result = await db
    .updateTable('payments')
    .set({ cancel_claimed_until: null })
    .where('imp_uid', '=', claim.impUid)
    .where('cancel_claimed_until', '=', toDbTime(claim.until))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
