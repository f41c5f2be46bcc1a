/**
 * The V1 resource shapes exactly as the API returns them (spec `PaymentAnnotation`,
 * `CustomerAnnotation`, `ScheduleResultAnnotation`, ...), their factories, id generators and the code
 * tables (notes §15). Fields the spec lists but a record does not have are `null` (strings) or `0`
 * (timestamps), as PortOne answers.
 */
import { randomBytes, randomInt } from 'node:crypto';

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

// ---- generators -------------------------------------------------------------------------------------
const digits = (n: number) => Array.from({ length: n }, () => randomInt(10)).join('');
export const newImpUid = () => `imp_${digits(12)}`;
export const newAccessToken = () => randomBytes(20).toString('hex');
export const newPgTid = (prefix: string) => `${prefix}${digits(16)}`;
export const newApplyNum = () => digits(8);
export const newVbankNum = () => `${digits(3)}${digits(11)}`;
export const newCancellationId = () => `cancel_${randomBytes(8).toString('hex')}`;

/** Keeps the first 6 and last 4 digits, masks the rest (notes §16): `457972******1234`. */
export function maskCardNumber(digitsOnly: string): string {
  return `${digitsOnly.slice(0, 6)}${'*'.repeat(Math.max(0, digitsOnly.length - 10))}${digitsOnly.slice(-4)}`;
}

// ---- code tables (notes §15) ---------------------------------------------------------------------------
export const BANKS: Readonly<Record<string, string>> = {
  '002': '산업은행',
  '003': '기업은행',
  '004': 'KB국민은행',
  '005': '외환은행',
  '007': '수협',
  '011': '농협',
  '012': '지역농축협',
  '020': '우리은행',
  '023': 'SC제일은행',
  '027': '한국씨티은행',
  '031': '대구은행',
  '032': '부산은행',
  '034': '광주은행',
  '035': '제주은행',
  '037': '전북은행',
  '039': '경남은행',
  '045': '새마을금고',
  '048': '신협',
  '071': '우체국',
  '081': '하나은행',
  '088': '신한은행',
  '089': 'K뱅크',
  '090': '카카오뱅크',
  '092': '토스뱅크',
};

/**
 * Request-side bank codes are PG specific (notes §15.1): KG Inicis sends 2 digits (`04`), KCP `BK04`,
 * most others the 3-digit standard code. Responses always carry the 3-digit code; `undefined` = unknown.
 */
export function normaliseBankCode(code: string): string | undefined {
  const m = /^(?:BK)?(\d{2,3})$/i.exec(code.trim());
  if (!m?.[1]) return undefined;
  const standard = m[1].padStart(3, '0');
  return BANKS[standard] ? standard : undefined;
}

/** Card company of an emulated card, chosen from the first digit so tests see varied but stable values. */
export function cardCompany(digitsOnly: string): { code: string; name: string } {
  switch (digitsOnly[0]) {
    case '4':
      return { code: '366', name: '신한카드' };
    case '5':
      return { code: '381', name: 'KB국민카드' };
    case '3':
      return { code: '365', name: '삼성카드' };
    case '9':
      return { code: '361', name: 'BC카드' };
    default:
      return { code: '367', name: '현대카드' };
  }
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

/** Money arithmetic on KRW integers and 2-decimal foreign amounts without float drift. */
export const money = (n: number) => Math.round(n * 100) / 100;
