import type { Generated, Selectable } from 'kysely';
import type {
  BoolColumn,
  DateTimeColumn,
  DecimalColumn,
  NullableDateTimeColumn,
  NullableDecimalColumn,
} from './codec.ts';

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
