/**
 * The V1 resource shapes exactly as the API returns them (spec `PaymentAnnotation`,
 * `CustomerAnnotation`, `ScheduleResultAnnotation`, ...) and the blank payment they start from. Fields
 * the spec lists but a record does not have are `null` (strings) or `0` (timestamps), as PortOne answers.
 */

export type PaymentStatus = 'ready' | 'paid' | 'cancelled' | 'failed';
export const PAYMENT_STATUSES: readonly PaymentStatus[] = ['ready', 'paid', 'cancelled', 'failed'];

export interface PaymentCancel {
  pg_tid: string;
  amount: number;
  cancelled_at: number;
  reason: string;
  cancellation_id: string;
  receipt_url: string;
}

export interface Payment {
  imp_uid: string;
  merchant_uid: string;
  pay_method: string;
  channel: 'pc' | 'mobile' | 'api';
  pg_provider: string;
  emb_pg_provider: string | null;
  pg_tid: string | null;
  pg_id: string;
  sandbox: boolean;
  escrow: boolean;
  apply_num: string | null;
  bank_code: string | null;
  bank_name: string | null;
  card_code: string | null;
  card_name: string | null;
  card_issuer_code: string | null;
  card_issuer_name: string | null;
  card_publisher_code: string | null;
  card_publisher_name: string | null;
  card_quota: number;
  card_number: string | null;
  card_type: number | null;
  vbank_code: string | null;
  vbank_name: string | null;
  vbank_num: string | null;
  vbank_holder: string | null;
  vbank_date: number;
  vbank_issued_at: number;
  name: string | null;
  amount: number;
  cancel_amount: number;
  currency: string;
  buyer_name: string | null;
  buyer_email: string | null;
  buyer_tel: string | null;
  buyer_addr: string | null;
  buyer_postcode: string | null;
  custom_data: string | null;
  user_agent: string | null;
  status: PaymentStatus;
  started_at: number;
  paid_at: number;
  failed_at: number;
  cancelled_at: number;
  fail_reason: string | null;
  cancel_reason: string | null;
  receipt_url: string | null;
  cancel_history: PaymentCancel[];
  cancel_receipt_urls: string[];
  cash_receipt_issued: boolean;
  customer_uid: string | null;
  customer_uid_usage: 'issue' | 'payment' | 'payment.scheduled' | null;
}

export interface Customer {
  customer_uid: string;
  pg_provider: string;
  pg_id: string;
  sandbox: boolean;
  customer_id: string | null;
  card_name: string;
  card_code: string;
  card_issuer_code: string | null;
  card_issuer_name: string | null;
  card_publisher_code: string | null;
  card_publisher_name: string | null;
  card_number: string;
  card_type: number | null;
  customer_name: string | null;
  customer_tel: string | null;
  customer_email: string | null;
  customer_addr: string | null;
  customer_postcode: string | null;
  inserted: number;
  updated: number;
}

export type ScheduleStatus = 'scheduled' | 'executed' | 'revoked';
export const SCHEDULE_STATUSES: readonly ScheduleStatus[] = ['scheduled', 'executed', 'revoked'];

export interface ScheduleResult {
  customer_uid: string;
  merchant_uid: string;
  imp_uid: string | null;
  pg_provider: string | null;
  pg_id: string | null;
  customer_id: string | null;
  schedule_at: number;
  executed_at: number;
  revoked_at: number;
  amount: number;
  currency: string;
  name: string | null;
  buyer_name: string | null;
  buyer_email: string | null;
  buyer_tel: string | null;
  buyer_addr: string | null;
  buyer_postcode: string | null;
  custom_data: string | null;
  schedule_status: ScheduleStatus;
  payment_status: PaymentStatus | null;
  fail_reason: string | null;
  promotion_id: string | null;
}

export interface Prepared {
  merchant_uid: string;
  amount: number;
  currency: string | null;
}

/** `{ total, previous, next, list }` with `previous`/`next` = 0 at the ends (notes §5.6). */
export interface Paged<T> {
  total: number;
  previous: number;
  next: number;
  list: T[];
}

/** A Payment with every spec field present; callers fill what their payment method sets. */
export function blankPayment(init: {
  imp_uid: string;
  merchant_uid: string;
  amount: number;
  currency: string;
  pay_method: string;
  channel: Payment['channel'];
  pg_provider: string;
  pg_id: string;
  sandbox: boolean;
  started_at: number;
}): Payment {
  // Keys in the spec's order, so answers read like PortOne's.
  return {
    imp_uid: init.imp_uid,
    merchant_uid: init.merchant_uid,
    pay_method: init.pay_method,
    channel: init.channel,
    pg_provider: init.pg_provider,
    emb_pg_provider: null,
    pg_tid: null,
    pg_id: init.pg_id,
    sandbox: init.sandbox,
    escrow: false,
    apply_num: null,
    bank_code: null,
    bank_name: null,
    card_code: null,
    card_name: null,
    card_issuer_code: null,
    card_issuer_name: null,
    card_publisher_code: null,
    card_publisher_name: null,
    card_quota: 0,
    card_number: null,
    card_type: null,
    vbank_code: null,
    vbank_name: null,
    vbank_num: null,
    vbank_holder: null,
    vbank_date: 0,
    vbank_issued_at: 0,
    name: null,
    amount: init.amount,
    cancel_amount: 0,
    currency: init.currency,
    buyer_name: null,
    buyer_email: null,
    buyer_tel: null,
    buyer_addr: null,
    buyer_postcode: null,
    custom_data: null,
    user_agent: null,
    status: 'ready',
    started_at: init.started_at,
    paid_at: 0,
    failed_at: 0,
    cancelled_at: 0,
    fail_reason: null,
    cancel_reason: null,
    receipt_url: null,
    cancel_history: [],
    cancel_receipt_urls: [],
    cash_receipt_issued: false,
    customer_uid: null,
    customer_uid_usage: null,
  };
}
