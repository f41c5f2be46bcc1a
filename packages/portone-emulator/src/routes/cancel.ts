/**
 * `POST /payments/cancel` with the rules of notes §6, in this order:
 *   1. imp_uid wins over merchant_uid; an unknown imp_uid fails even when merchant_uid is valid.
 *   2. nothing found / never paid              → 200, code 1, 취소할 결제건이 존재하지 않습니다.
 *   3. cancel_amount >= amount                 → 200, code 1, 이미 전액취소된 주문입니다.
 *   4. checksum given and ≠ amount−cancel_amount → 200, code 1, nothing cancelled (compare-and-set)
 *   5. amount omitted/0 = the whole remaining balance; more than remaining → 200, code -1 (PG refusal)
 *   6. paid vbanks need refund_holder, refund_bank, refund_account → 200, code 1
 *   7. success: cancel_history entry with cancellation_id, status `cancelled` (also when partial),
 *      webhook `cancelled` only with enable_webhook=true.
 */
import { z } from 'zod';
import { normaliseBankCode } from '../code-tables.ts';
import { notify } from '../engine.ts';
import { badRequest, invalidParam, MESSAGES, pgFailure, ruleViolation } from '../errors.ts';
import { type AuthedCtx, ok, type RouteTable } from '../http.ts';
import { newCancellationId, newPgTid } from '../ids.ts';
import { f, parseParams } from '../params.ts';

/** Money arithmetic on KRW integers and 2-decimal foreign amounts without float drift. */
const money = (n: number) => Math.round(n * 100) / 100;

const cancelSchema = z.object({
  imp_uid: f.optStr(32),
  merchant_uid: f.optStr(40),
  amount: f.optNum(),
  tax_free: f.optNum(),
  vat_amount: f.optNum(),
  checksum: f.optNum(),
  reason: f.optStr(256),
  refund_holder: f.optStr(16),
  refund_bank: f.optStr(4),
  refund_account: f.optStr(16),
  refund_tel: f.optStr(16),
  retain_promotion: f.optBool(),
  enable_webhook: f.optBool(),
});

function cancel(ctx: AuthedCtx) {
  const input = parseParams(cancelSchema, ctx.body);
  const { state } = ctx.ops;
  if (!input.imp_uid && !input.merchant_uid) throw badRequest(MESSAGES.cancelNoIdentifier);
  for (const name of ['amount', 'tax_free', 'vat_amount', 'checksum'] as const) {
    const v = input[name];
    if (v !== undefined && v < 0) throw invalidParam(name, '0 이상이어야 합니다');
  }

  const record = input.imp_uid
    ? ctx.store.payments.get(input.imp_uid)
    : ctx.store.paymentsFor(input.merchant_uid ?? '').find((r) => r.data.paid_at > 0);
  if (!record || record.data.paid_at === 0) throw ruleViolation(MESSAGES.cancelTargetMissing);
  const p = record.data;
  const remaining = money(p.amount - p.cancel_amount);
  if (remaining <= 0) throw ruleViolation(MESSAGES.alreadyFullyCancelled);
  if (input.checksum !== undefined && money(input.checksum) !== remaining) {
    throw ruleViolation(`${MESSAGES.checksumMismatch} (취소가능잔액: ${remaining}, checksum: ${input.checksum})`);
  }
  const amount = input.amount ? money(input.amount) : remaining;
  if (amount > remaining) throw pgFailure(MESSAGES.cancelAmountTooBig);
  if (input.tax_free !== undefined && input.tax_free > amount)
    throw invalidParam('tax_free', '취소금액 이하여야 합니다');
  if (input.vat_amount !== undefined && input.vat_amount > amount) {
    throw invalidParam('vat_amount', '취소금액 이하여야 합니다');
  }
  if (p.pay_method === 'vbank') {
    if (!input.refund_holder || !input.refund_bank || !input.refund_account) {
      throw ruleViolation(MESSAGES.vbankRefundAccountRequired);
    }
    if (!normaliseBankCode(input.refund_bank)) throw invalidParam('refund_bank', '지원되지 않는 은행코드입니다');
  }

  const now = state.now();
  const cancellationId = newCancellationId();
  const receiptUrl = `${ctx.ops.baseUrl()}/__emulator/payments/${p.imp_uid}?cancellation_id=${cancellationId}`;
  p.cancel_history.push({
    pg_tid: newPgTid('C'),
    amount,
    cancelled_at: now,
    reason: input.reason ?? '',
    cancellation_id: cancellationId,
    receipt_url: receiptUrl,
  });
  p.cancel_receipt_urls.push(receiptUrl);
  p.cancel_amount = money(p.cancel_amount + amount);
  p.cancel_reason = input.reason ?? null;
  p.cancelled_at = now;
  p.status = 'cancelled';
  record.updated = now;

  if (input.enable_webhook) void notify(ctx.ops, record, 'cancelled', { cancellation_id: cancellationId });
  return ok(p);
}

export function registerCancelRoutes(routes: RouteTable): void {
  routes.authed('POST', '/payments/cancel', cancel);
}
