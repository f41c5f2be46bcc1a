import { createHash } from 'node:crypto';
import type { Payment, PaymentCancel } from '@repo/portone-client';
import type { Insertable } from 'kysely';
import { clip, maskCardNumber, toDbBool, toDbJson, toDecimal, toNullableDecimal, unixToDbTime } from './codec.ts';
import type { CancelTable } from './payment.table.ts';

// PortOne's payment (the client's Payment, snake_case) as `payments` and `payment_cancels` values.

function integerOrNull(value: number | null | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? Math.trunc(value) : null;
}

const rawTexts = new WeakMap<Payment, string>();

/**
 * PortOne's payload as `payments.raw` holds it, made once per payment object: a lookup compares it
 * with the stored copy (StoredSnapshots), stores it when it differs and answers it, and serializing
 * the same payment again for the answer was ~4% of a lookup's CPU (bench/, in-process A/B). A payment
 * parsed from PortOne is never modified afterwards, so the text stays the object's.
 */
export function paymentRaw(p: Payment): string {
  let text = rawTexts.get(p);
  if (text === undefined) {
    text = toDbJson(p);
    rawTexts.set(p, text);
  }
  return text;
}

/** PortOne's fields as column values (everything except our own verification and timestamps). */
export function paymentColumns(p: Payment) {
  return {
    merchant_uid: p.merchant_uid,
    status: p.status,
    amount: toDecimal(p.amount),
    cancel_amount: toDecimal(p.cancel_amount),
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
    custom_data: p.custom_data ?? null,
    raw: paymentRaw(p),
  };
}

/**
 * PortOne's cancellation_id has been required since 2024-02; older history entries lack it, so they
 * get a stable id derived from what identifies the entry.
 */
function cancellationIdOf(impUid: string, entry: PaymentCancel): string {
  if (entry.cancellation_id) return entry.cancellation_id;
  const digest = createHash('sha256')
    .update(`${impUid}|${entry.pg_tid ?? ''}|${entry.cancelled_at}|${entry.amount}`)
    .digest('hex');
  return `legacy_${digest.slice(0, 40)}`;
}

/** A cancel_history entry; PortOne may add these amounts, which the client's loose schema keeps unnamed. */
type CancelEntry = PaymentCancel & { tax_free?: number | null; vat_amount?: number | null };

/** The cancel_history entries whose cancellation_id is not `known`, as payment_cancels rows (one per id). */
export function newCancelRows(
  payment: Payment,
  known: ReadonlySet<string>,
  now: string,
  requestedBy: string | null,
): Insertable<CancelTable>[] {
  const history: CancelEntry[] = payment.cancel_history ?? [];
  const rows = new Map<string, Insertable<CancelTable>>();
  for (const entry of history) {
    const id = cancellationIdOf(payment.imp_uid, entry);
    if (known.has(id) || rows.has(id)) continue;
    rows.set(id, {
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
  return [...rows.values()];
}
