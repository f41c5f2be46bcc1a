import { fromDecimal, fromNullableDbTime, hundredths } from './codec.ts';
import type { Trx } from './database.ts';
import {
  type ChangeCause,
  enqueueEvent,
  type PaymentState,
  paymentEventType,
} from './notification-event.repository.ts';
import type { PaymentRow } from './payment.table.ts';

/** The columns a payment's notification is made of (a stored row, or the values just written). */
export type NotifiedPayment = Pick<
  PaymentRow,
  | 'imp_uid'
  | 'merchant_uid'
  | 'status'
  | 'amount'
  | 'currency'
  | 'cancel_amount'
  | 'pay_method'
  | 'paid_at'
  | 'failed_at'
  | 'fail_reason'
  | 'cancelled_at'
  | 'cancel_reason'
  | 'vbank_code'
  | 'vbank_name'
  | 'vbank_num'
  | 'vbank_holder'
  | 'vbank_date'
>;

function stateOf(row: NotifiedPayment): PaymentState {
  return { status: row.status, cancelHundredths: hundredths(fromDecimal(row.cancel_amount)), vbankNum: row.vbank_num };
}

const iso = (value: string | null) => fromNullableDbTime(value)?.toISOString() ?? null;

/**
 * Puts the change in the notification outbox, in the transaction that made it (a stored payment that
 * changed state: paid, cancelled with its amount, failed, virtual account issued).
 */
export async function notifyPaymentChange(
  trx: Trx,
  before: NotifiedPayment | undefined,
  after: NotifiedPayment,
  cause: ChangeCause,
): Promise<void> {
  const type = paymentEventType(before && stateOf(before), stateOf(after));
  if (!type) return;
  const cancelAmount = fromDecimal(after.cancel_amount);
  const previousCancel = before ? fromDecimal(before.cancel_amount) : 0;
  await enqueueEvent(trx, {
    type,
    subject: `payment:${after.imp_uid}`,
    cause,
    data: {
      imp_uid: after.imp_uid,
      merchant_uid: after.merchant_uid,
      status: after.status,
      previous_status: before?.status ?? null,
      amount: fromDecimal(after.amount),
      currency: after.currency,
      cancel_amount: cancelAmount,
      ...(type === 'payment.cancelled'
        ? { cancelled_amount: Math.max(0, hundredths(cancelAmount) - hundredths(previousCancel)) / 100 }
        : {}),
      pay_method: after.pay_method,
      paid_at: iso(after.paid_at),
      failed_at: iso(after.failed_at),
      fail_reason: after.fail_reason,
      cancelled_at: iso(after.cancelled_at),
      cancel_reason: after.cancel_reason,
      ...(after.vbank_num != null
        ? {
            vbank: {
              code: after.vbank_code,
              name: after.vbank_name,
              num: after.vbank_num,
              holder: after.vbank_holder,
              due: iso(after.vbank_date),
            },
          }
        : {}),
    },
  });
}
