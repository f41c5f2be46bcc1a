import { z } from 'zod';
import { nullish, pagedSchema } from './common.ts';

/**
 * Payment status. PortOne may add values (backward-compatibility policy), so the type stays open and
 * validation accepts any string.
 */
export type PaymentStatus = 'ready' | 'paid' | 'cancelled' | 'failed' | (string & {});

/** `PaymentCancelAnnotation`: one (partial) cancellation. */
export const PaymentCancelSchema = z.looseObject({
  pg_tid: z.string(),
  amount: z.number(),
  cancelled_at: z.number(),
  reason: z.string().nullable(),
  cancellation_id: z.string(),
  receipt_url: nullish(z.string()),
});

/** `VbankDepositAnnotation`: a deposit into a fixed "unlimited" virtual account. */
export const VbankDepositSchema = z.looseObject({
  pg_tid: z.string(),
  amount: z.number(),
  depositor_name: nullish(z.string()),
  deposited_at: z.number(),
  reason: nullish(z.string()),
});

/** `PaymentAnnotation`. Required per spec: imp_uid, merchant_uid, amount, cancel_amount, currency, status, sandbox. */
export const PaymentSchema = z.looseObject({
  imp_uid: z.string(),
  merchant_uid: z.string(),
  pay_method: nullish(z.string()),
  channel: nullish(z.string()),
  pg_provider: nullish(z.string()),
  emb_pg_provider: nullish(z.string()),
  pg_tid: nullish(z.string()),
  pg_id: nullish(z.string()),
  sandbox: z.boolean(),
  escrow: nullish(z.boolean()),
  apply_num: nullish(z.string()),
  bank_code: nullish(z.string()),
  bank_name: nullish(z.string()),
  card_code: nullish(z.string()),
  card_name: nullish(z.string()),
  card_issuer_code: nullish(z.string()),
  card_issuer_name: nullish(z.string()),
  card_publisher_code: nullish(z.string()),
  card_publisher_name: nullish(z.string()),
  card_quota: nullish(z.number()),
  card_number: nullish(z.string()),
  card_type: nullish(z.number()),
  vbank_code: nullish(z.string()),
  vbank_name: nullish(z.string()),
  vbank_num: nullish(z.string()),
  vbank_holder: nullish(z.string()),
  vbank_date: nullish(z.number()),
  vbank_issued_at: nullish(z.number()),
  name: nullish(z.string()),
  amount: z.number(),
  cancel_amount: z.number(),
  currency: z.string(),
  buyer_name: nullish(z.string()),
  buyer_email: nullish(z.string()),
  buyer_tel: nullish(z.string()),
  buyer_addr: nullish(z.string()),
  buyer_postcode: nullish(z.string()),
  custom_data: nullish(z.string()),
  user_agent: nullish(z.string()),
  status: z.string() as z.ZodType<PaymentStatus>,
  started_at: nullish(z.number()),
  paid_at: nullish(z.number()),
  failed_at: nullish(z.number()),
  cancelled_at: nullish(z.number()),
  fail_reason: nullish(z.string()),
  cancel_reason: nullish(z.string()),
  receipt_url: nullish(z.string()),
  cancel_history: nullish(z.array(PaymentCancelSchema)),
  deposit_history: nullish(z.array(VbankDepositSchema)),
  cancel_receipt_urls: nullish(z.array(z.string())),
  cash_receipt_issued: nullish(z.boolean()),
  customer_uid: nullish(z.string()),
  customer_uid_usage: nullish(z.string()),
  promotion: nullish(z.looseObject({ id: nullish(z.string()), discount: nullish(z.number()) })),
});

export const PaymentListSchema = z.array(PaymentSchema);
export const PagedPaymentSchema = pagedSchema(PaymentSchema);

/** A payment as PortOne reports it (`PaymentAnnotation`). */
export type Payment = z.infer<typeof PaymentSchema>;
/** One (partial) cancellation of a payment (`PaymentCancelAnnotation`). */
export type PaymentCancel = z.infer<typeof PaymentCancelSchema>;
/** A deposit into a virtual account (`VbankDepositAnnotation`). */
export type VbankDeposit = z.infer<typeof VbankDepositSchema>;

/** Sort order of payment lists: `-` is descending; `updated` is the last status change. */
export type PaymentSorting = '-started' | 'started' | '-paid' | 'paid' | '-updated' | 'updated';

/** `GET /payments/{imp_uid}`. */
export interface GetPaymentRequest {
  imp_uid: string;
  /** Include payments made on a test channel (hidden since 2026-01-26 unless true). */
  include_sandbox?: boolean;
}

/** `GET /payments?imp_uid[]=&merchant_uid[]=` (up to 100 ids in total). */
export interface GetPaymentsRequest {
  imp_uid?: readonly string[];
  merchant_uid?: readonly string[];
}

/** `GET /payments/status/{payment_status}`. */
export interface ListPaymentsByStatusRequest {
  payment_status: 'all' | 'ready' | 'paid' | 'cancelled' | 'failed';
  /** 1-based page (default 1). */
  page?: number;
  /** Page size (default 20, max 1000). */
  limit?: number;
  /** UNIX seconds, inclusive (default `to` minus 90 days). */
  from?: number;
  /** UNIX seconds, inclusive (default now). */
  to?: number;
  sorting?: PaymentSorting;
}

/** `GET /payments/find/{merchant_uid}/{payment_status}`: the first match under `sorting`. */
export interface FindPaymentRequest {
  merchant_uid: string;
  payment_status?: 'ready' | 'paid' | 'cancelled' | 'failed';
  sorting?: PaymentSorting;
}

/** `GET /payments/findAll/{merchant_uid}/{payment_status}`. */
export interface FindAllPaymentsRequest extends FindPaymentRequest {
  page?: number;
  limit?: number;
}

interface CancelFields {
  /** Amount to cancel; omitted or 0 cancels the whole remaining balance. */
  amount?: number;
  /** Tax-free part of this cancellation. */
  tax_free?: number;
  /** VAT part of this cancellation. */
  vat_amount?: number;
  /**
   * The cancellable balance the caller believes exists before this cancel (`amount - cancel_amount`).
   * PortOne refuses the cancel when it differs, which also makes a replay fail instead of refunding
   * twice: only cancels carrying a checksum are retried after an ambiguous failure.
   */
  checksum?: number;
  reason?: string;
  /** Refund account holder (virtual-account refunds). */
  refund_holder?: string;
  /** Refund bank code (PG-specific code table). */
  refund_bank?: string;
  refund_account?: string;
  refund_tel?: string;
  retain_promotion?: boolean;
  /** Send a `cancelled` webhook (default false). */
  enable_webhook?: boolean;
  extra?: { requester?: 'customer' | 'admin' };
}

/** `POST /payments/cancel`: `imp_uid` or `merchant_uid` (imp_uid wins when both are given). */
export type CancelRequest = CancelFields &
  ({ imp_uid: string; merchant_uid?: string } | { imp_uid?: undefined; merchant_uid: string });
