import { type Payment, PortOneApiError } from '@repo/portone-client';
import type { z } from 'zod';
import { PortOneConflictError } from '../../errors.ts';
import { chargeOnce, findCharge } from '../../idempotency/charge-once.ts';
import { DEFAULT_CURRENCY, minorOf } from '../../money.ts';
import type { RequestContext, ServiceContext } from '../../service-context.ts';
import { fromDbBool, fromDbTime, fromDecimal, fromNullableDbTime, hundredths } from '../../store/codec.ts';
import {
  listPayments as listStoredPayments,
  upsertPaymentFromPortOne,
  type VerificationStatus,
} from '../../store/payment.repository.ts';
import type { PaymentRow } from '../../store/payment.table.ts';
import { paymentRaw } from '../../store/payment-columns.ts';
import { savePrepared } from '../../store/prepared.repository.ts';
import type { ListPaymentsQuery, PrepareBody, VbankBody } from './schemas.ts';

const DAY = 86_400;

/** A stored time as UNIX seconds, like PortOne's. */
const unix = (value: string | null) => {
  const date = fromNullableDbTime(value);
  return date ? Math.floor(date.getTime() / 1000) : null;
};

/** The one mapping of a stored payment to the API's shape (snake_case, times as UNIX seconds). */
function toApiPayment(row: PaymentRow) {
  const amount = fromDecimal(row.amount);
  const cancelAmount = fromDecimal(row.cancel_amount);
  return {
    imp_uid: row.imp_uid,
    merchant_uid: row.merchant_uid,
    status: row.status,
    amount,
    cancel_amount: cancelAmount,
    // In hundredths, so no float residue appears.
    cancellable_amount: Math.max(0, hundredths(amount) - hundredths(cancelAmount)) / 100,
    currency: row.currency,
    pay_method: row.pay_method,
    pg_provider: row.pg_provider,
    name: row.name,
    customer_uid: row.customer_uid,
    vbank_num: row.vbank_num,
    vbank_date: unix(row.vbank_date),
    paid_at: unix(row.paid_at),
    failed_at: unix(row.failed_at),
    cancelled_at: unix(row.cancelled_at),
    fail_reason: row.fail_reason,
    verification_status: row.verification_status as VerificationStatus,
    sandbox: fromDbBool(row.sandbox),
    forged: fromDbBool(row.forged),
    created_at: Math.floor(fromDbTime(row.created_at).getTime() / 1000),
    updated_at: Math.floor(fromDbTime(row.updated_at).getTime() / 1000),
  };
}

export async function listPayments(ctx: ServiceContext, query: z.output<typeof ListPaymentsQuery>) {
  const { total, rows } = await listStoredPayments(ctx.db, {
    ...(query.status ? { status: query.status } : {}),
    ...(query.from !== undefined ? { from: new Date(query.from * 1000) } : {}),
    ...(query.to !== undefined ? { to: new Date(query.to * 1000) } : {}),
    page: query.page,
    limit: query.limit,
  });
  return { total, page: query.page, limit: query.limit, items: rows.map(toApiPayment) };
}

/**
 * PortOne is the source of truth: fetch, remember, answer. Test-channel payments are asked for too
 * (PortOne hides them otherwise), so that they can be recognised as such and never pass as real.
 */
export async function fetchPayment(ctx: ServiceContext, impUid: string): Promise<Payment> {
  const payment = await ctx.portone.payments.get({ imp_uid: impUid, include_sandbox: true });
  await keepStored(ctx, payment);
  return payment;
}

/** Read-through: PortOne's answer is stored before it is returned, unless the store already holds it. */
async function keepStored(ctx: ServiceContext, payment: Payment): Promise<void> {
  const raw = paymentRaw(payment);
  if (ctx.storedSnapshots.has(payment.imp_uid, raw)) return;
  const { outcome } = await upsertPaymentFromPortOne(ctx.db, payment);
  // A stale answer (older than our copy) left the store as it was: not known to match.
  if (outcome !== 'stale') ctx.storedSnapshots.remember(payment.imp_uid, raw);
}

export async function findPayment(
  ctx: ServiceContext,
  merchantUid: string,
  status?: 'ready' | 'paid' | 'cancelled' | 'failed',
): Promise<Payment> {
  const payment = await ctx.portone.payments.find({
    merchant_uid: merchantUid,
    ...(status ? { payment_status: status } : {}),
  });
  await keepStored(ctx, payment);
  return payment;
}

/**
 * Registers the amount at PortOne (so the payment window refuses another amount) and keeps our copy
 * for verification. Registering the same merchant_uid again with the same amount answers the existing
 * registration; with a different amount it is a conflict (PortOne keeps the first one).
 */
export async function preparePayment(ctx: ServiceContext, body: z.output<typeof PrepareBody>) {
  let prepared: { merchant_uid: string; amount: number; currency: string | null };
  try {
    const created = await ctx.portone.prepare.create({
      merchant_uid: body.merchant_uid,
      amount: body.amount,
      ...(body.currency ? { currency: body.currency } : {}),
    });
    prepared = { merchant_uid: created.merchant_uid, amount: created.amount, currency: created.currency ?? null };
  } catch (error) {
    if (!(error instanceof PortOneApiError)) throw error;
    const existing = await ctx.portone.prepare.get({ merchant_uid: body.merchant_uid }).catch(() => undefined);
    if (!existing) throw error;
    const sameCurrency = (existing.currency ?? null) === (body.currency ?? existing.currency ?? null);
    const currency = existing.currency ?? body.currency ?? DEFAULT_CURRENCY;
    if (minorOf(existing.amount, currency) !== minorOf(body.amount, currency) || !sameCurrency) {
      throw new PortOneConflictError(
        `merchant_uid ${body.merchant_uid} is already prepared with amount ${existing.amount}${existing.currency ? ` ${existing.currency}` : ''}`,
        {
          details: {
            prepared: { amount: existing.amount, currency: existing.currency ?? null },
            requested: { amount: body.amount, currency: body.currency ?? null },
            portone: { operation: error.operation, code: error.code ?? null, message: error.portoneMessage ?? null },
          },
          cause: error,
        },
      );
    }
    prepared = { merchant_uid: existing.merchant_uid, amount: existing.amount, currency: existing.currency ?? null };
  }
  await savePrepared(ctx.db, {
    merchantUid: prepared.merchant_uid,
    amount: prepared.amount,
    currency: prepared.currency ?? body.currency ?? null,
  });
  ctx.log.info({ merchantUid: prepared.merchant_uid, amount: prepared.amount }, 'payment prepared');
  return prepared;
}
/**
 * Issues a virtual account; the due date defaults to VBANK_DUE_DAYS from PortOne's clock (not ours:
 * PortOne checks it against its own, and `vbank_issued_at` comes from there too).
 */
export async function issueVbank(ctx: RequestContext, body: z.output<typeof VbankBody>): Promise<Payment> {
  const vbankDue = body.vbank_due ?? (await ctx.portone.now()) + ctx.config.VBANK_DUE_DAYS * DAY;
  const { custom_data, ...rest } = body;
  const payment = await chargeOnce(
    ctx,
    { operation: 'vbanks.issue', merchantUids: [body.merchant_uid] },
    () =>
      ctx.portone.vbanks.issue({
        ...rest,
        vbank_due: vbankDue,
        ...(custom_data !== undefined
          ? { custom_data: typeof custom_data === 'string' ? custom_data : JSON.stringify(custom_data) }
          : {}),
      }),
    () =>
      findCharge(ctx, {
        merchantUid: body.merchant_uid,
        amount: body.amount,
        currency: DEFAULT_CURRENCY,
        since: ctx.idempotency.startedAt,
      }),
  );
  await upsertPaymentFromPortOne(ctx.db, payment, { cause: 'charge' });
  ctx.log.info({ impUid: payment.imp_uid, merchantUid: payment.merchant_uid }, 'virtual account issued');
  return payment;
}
