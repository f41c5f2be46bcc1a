/**
 * The payment operations shared by the V1 routes, the control API and the schedule executor:
 * card checks, approvals and declines (with the documented magic values), vbank issue/deposit,
 * schedule execution, and "send the webhook for this payment".
 */
import { BANKS, cardCompany, maskCardNumber } from './code-tables.ts';
import { MESSAGES, pgFailure } from './errors.ts';
import { newApplyNum, newPgTid, newVbankNum } from './ids.ts';
import { blankPayment, type Payment, type ScheduleResult } from './resources.ts';
import type { CustomerRecord, EmulatorState, MerchantStore, PaymentRecord, ScheduleRecord } from './state.ts';
import type { WebhookBody, WebhookDelivery, WebhookSender, WebhookStatus } from './webhooks.ts';

/**
 * Magic values that make the emulated PG say no. Card numbers may be written with or without dashes.
 */
export const MAGIC = {
  /** Issues a billing key (and passes `onetime` card checks) but every payment charged to it is declined: `code: 0`, `status: 'failed'`. */
  DECLINED_CARD_NUMBER: '4000-0000-0000-0002',
  /** Fails card authentication: billing-key issue / `onetime` / schedule-with-card answer `code: -1`, nothing is stored. */
  INVALID_CARD_NUMBER: '4000-0000-0000-0127',
  /** Any `again`, `onetime` or scheduled payment of exactly this amount is declined (checkout uses `outcome`). */
  DECLINED_AMOUNT: 4004,
} as const;

export const DECLINE_REASONS = {
  card: '[F0001] 카드 한도초과 (emulator: declined card)',
  amount: '[F0002] 잔액부족 (emulator: declined amount)',
  checkout: '사용자가 결제를 취소하셨습니다',
} as const;

const digitsOf = (cardNumber: string) => cardNumber.replace(/[\s-]/g, '');
const DECLINED_DIGITS = digitsOf(MAGIC.DECLINED_CARD_NUMBER);
const INVALID_DIGITS = digitsOf(MAGIC.INVALID_CARD_NUMBER);

/** What the emulator keeps of a card: company, masked number, and whether it declines. Never the number. */
export interface CardInfo {
  code: string;
  name: string;
  masked: string;
  declines: boolean;
}

/**
 * Checks a key-in card like a PG would (13–19 digits, `YYYY-MM` expiry not in the past). A failure
 * throws `code: -1` with `failureMessage` and a reason in parentheses.
 */
export function checkCard(cardNumber: string, expiry: string, now: number, failureMessage: string): CardInfo {
  const digits = digitsOf(cardNumber);
  if (!/^\d{13,19}$/.test(digits)) throw pgFailure(`${failureMessage} (유효하지않은 카드번호)`);
  if (digits === INVALID_DIGITS) throw pgFailure(`${failureMessage} (emulator: invalid card)`);
  const m = /^(\d{4})-?(\d{2})$/.exec(expiry.trim());
  const month = Number(m?.[2]);
  if (!m || month < 1 || month > 12) throw pgFailure(`${failureMessage} (유효기간 형식 오류: YYYY-MM)`);
  const today = new Date(now * 1000);
  const current = today.getUTCFullYear() * 12 + today.getUTCMonth();
  if (Number(m[1]) * 12 + (month - 1) < current) throw pgFailure(`${failureMessage} (유효기간 만료)`);
  return { ...cardCompany(digits), masked: maskCardNumber(digits), declines: digits === DECLINED_DIGITS };
}

export function cardOfCustomer(customer: CustomerRecord): CardInfo {
  return {
    code: customer.data.card_code,
    name: customer.data.card_name,
    masked: customer.data.card_number,
    declines: customer.declines,
  };
}

/** `pg` may be `{pg}` or `{pg}.{MID}` (notes §8.1, §9.1). */
export function pgOf(pg: string | undefined, fallback: { provider: string; id: string }) {
  if (!pg) return { provider: fallback.provider, id: fallback.id };
  const [provider, ...mid] = pg.split('.');
  return { provider: provider || fallback.provider, id: mid.length > 0 ? mid.join('.') : fallback.id };
}

export const DEFAULT_PG = {
  window: { provider: 'html5_inicis', id: 'INIpayTest' },
  api: { provider: 'nice_v2', id: 'nictest04m' },
} as const;

export interface Buyer {
  name?: string | undefined;
  buyer_name?: string | undefined;
  buyer_email?: string | undefined;
  buyer_tel?: string | undefined;
  buyer_addr?: string | undefined;
  buyer_postcode?: string | undefined;
  custom_data?: string | undefined;
}

export interface Ops {
  state: EmulatorState;
  webhooks: WebhookSender;
  /** Base URL the emulator listens on (receipt URLs point at the control API). */
  baseUrl: () => string;
}

/** What every new payment starts from, whatever its method. */
export interface NewPaymentInput extends Buyer {
  merchant_uid: string;
  amount: number;
  currency: string;
  pg: { provider: string; id: string };
  channel: Payment['channel'];
  noticeUrls: string[];
}

/** A payment started now: new ids (`pg_tid` prefixed `T`, or `V` for a virtual account), the PG, the buyer. */
function newPayment(ops: Ops, input: NewPaymentInput, pay_method: string): Payment {
  const p = blankPayment({
    imp_uid: ops.state.newImpUid(),
    merchant_uid: input.merchant_uid,
    amount: input.amount,
    currency: input.currency,
    pay_method,
    channel: input.channel,
    pg_provider: input.pg.provider,
    pg_id: input.pg.id,
    sandbox: ops.state.sandbox,
    started_at: ops.state.now(),
  });
  p.name = input.name ?? null;
  p.buyer_name = input.buyer_name ?? null;
  p.buyer_email = input.buyer_email ?? null;
  p.buyer_tel = input.buyer_tel ?? null;
  p.buyer_addr = input.buyer_addr ?? null;
  p.buyer_postcode = input.buyer_postcode ?? null;
  p.custom_data = input.custom_data ?? null;
  p.pg_tid = newPgTid(pay_method === 'vbank' ? 'V' : 'T');
  return p;
}

/** Ends a payment the PG answered at once: `failed` with the reason, else `paid` with a receipt. */
function settle(ops: Ops, p: Payment, failReason: string | null | undefined): void {
  if (failReason) {
    p.status = 'failed';
    p.failed_at = p.started_at;
    p.fail_reason = failReason;
  } else {
    p.status = 'paid';
    p.paid_at = p.started_at;
    p.receipt_url = `${ops.baseUrl()}/__emulator/payments/${p.imp_uid}`;
  }
}

export interface CardChargeInput extends NewPaymentInput {
  card: CardInfo;
  card_quota?: number | undefined;
  customer_uid?: string | undefined;
  usage: Payment['customer_uid_usage'];
  /** Forces a decline with this reason (checkout `outcome: 'failed'`). */
  forceFailReason?: string | undefined;
}

/** Creates an approved or declined card payment. Declines are real records with `status: 'failed'`. */
export function chargeCard(ops: Ops, store: MerchantStore, input: CardChargeInput): PaymentRecord {
  const p = newPayment(ops, input, 'card');
  p.card_code = input.card.code;
  p.card_name = input.card.name;
  p.card_number = input.card.masked;
  p.card_type = 0;
  p.card_quota = input.card_quota ?? 0;
  p.customer_uid = input.customer_uid ?? null;
  p.customer_uid_usage = input.customer_uid ? input.usage : null;
  const failReason =
    input.forceFailReason ??
    (input.card.declines
      ? DECLINE_REASONS.card
      : input.amount === MAGIC.DECLINED_AMOUNT
        ? DECLINE_REASONS.amount
        : null);
  settle(ops, p, failReason);
  if (p.status === 'paid') p.apply_num = newApplyNum();
  return ops.state.addPayment(store, p, input.noticeUrls);
}

export interface OtherMethodInput extends NewPaymentInput {
  pay_method: string;
  failReason?: string | undefined;
}

/** A window payment by a method other than card or vbank (trans, phone, easy pays). */
export function payOther(ops: Ops, store: MerchantStore, input: OtherMethodInput): PaymentRecord {
  const p = newPayment(ops, input, input.pay_method);
  if (input.pay_method === 'trans') {
    p.bank_code = '004';
    p.bank_name = BANKS['004'] ?? null;
  }
  settle(ops, p, input.failReason);
  return ops.state.addPayment(store, p, input.noticeUrls);
}

export interface VbankInput extends NewPaymentInput {
  vbank_code: string;
  vbank_due: number;
  vbank_holder?: string | undefined;
  vbank_num?: string | undefined;
}

/** Issues a virtual account: a `ready` payment waiting for a deposit (notes §8.1). */
export function issueVbank(ops: Ops, store: MerchantStore, input: VbankInput): PaymentRecord {
  const p = newPayment(ops, input, 'vbank');
  p.vbank_code = input.vbank_code;
  p.vbank_name = BANKS[input.vbank_code] ?? null;
  p.vbank_num = input.vbank_num ?? newVbankNum();
  p.vbank_holder = input.vbank_holder ?? '(주)포트원 에뮬레이터';
  p.vbank_date = input.vbank_due;
  p.vbank_issued_at = p.started_at;
  p.status = 'ready';
  return ops.state.addPayment(store, p, input.noticeUrls);
}

/** A deposit into a `ready` virtual account before its due time: the payment becomes `paid`. */
export function depositVbank(ops: Ops, record: PaymentRecord, amount: number | undefined): void {
  const p = record.data;
  const now = ops.state.now();
  if (p.pay_method !== 'vbank') throw pgFailure(MESSAGES.notVbank);
  if (p.status !== 'ready') throw pgFailure(MESSAGES.vbankNotReady);
  if (now > p.vbank_date) throw pgFailure(MESSAGES.vbankExpired);
  if (amount !== undefined && amount !== p.amount) throw pgFailure(MESSAGES.vbankAmountMismatch);
  p.status = 'paid';
  p.paid_at = now;
  p.receipt_url = `${ops.baseUrl()}/__emulator/payments/${p.imp_uid}`;
  record.updated = now;
}

/** Sends the webhook for a payment to its notice URLs or the configured URL; resolves when delivered. */
export function notify(
  ops: Ops,
  record: PaymentRecord,
  status: WebhookStatus = record.data.status,
  extra: { url?: string | undefined; cancellation_id?: string | undefined } = {},
): Promise<WebhookDelivery[]> {
  const body: WebhookBody = { imp_uid: record.data.imp_uid, merchant_uid: record.data.merchant_uid, status };
  const cancellationId =
    extra.cancellation_id ?? (status === 'cancelled' ? record.data.cancel_history.at(-1)?.cancellation_id : undefined);
  if (cancellationId) body.cancellation_id = cancellationId;
  const urls = extra.url ? [extra.url] : ops.webhooks.targets(record.noticeUrls);
  return ops.webhooks.deliver(urls, body);
}

/** A schedule as the API shows it: `payment_status` follows the executed payment (e.g. later cancelled). */
export function scheduleView(ops: Ops, record: ScheduleRecord): ScheduleResult {
  const imp = record.data.imp_uid;
  const payment = imp ? ops.state.paymentIndex.get(imp) : undefined;
  return payment ? { ...record.data, payment_status: payment.data.status } : { ...record.data };
}

/**
 * Runs one due schedule exactly like `again` (`customer_uid_usage: 'payment.scheduled'`) and sends
 * the `paid`/`failed` webhook. A schedule whose billing key was deleted meanwhile fails with
 * `fail_reason` "등록되지 않은 구매자입니다." (still a payment record, so the webhook has an imp_uid).
 */
export function executeSchedule(ops: Ops, store: MerchantStore, record: ScheduleRecord): Promise<WebhookDelivery[]> {
  const s = record.data;
  const customer = store.customers.get(s.customer_uid);
  const buyer: Buyer = {
    name: s.name ?? undefined,
    buyer_name: s.buyer_name ?? undefined,
    buyer_email: s.buyer_email ?? undefined,
    buyer_tel: s.buyer_tel ?? undefined,
    buyer_addr: s.buyer_addr ?? undefined,
    buyer_postcode: s.buyer_postcode ?? undefined,
    custom_data: s.custom_data ?? undefined,
  };
  const card: CardInfo = customer ? cardOfCustomer(customer) : { code: '', name: '', masked: '', declines: true };
  const payment = chargeCard(ops, store, {
    ...buyer,
    merchant_uid: s.merchant_uid,
    amount: s.amount,
    currency: s.currency,
    card,
    pg: customer ? { provider: customer.data.pg_provider, id: customer.data.pg_id } : DEFAULT_PG.api,
    channel: 'api',
    customer_uid: s.customer_uid,
    usage: 'payment.scheduled',
    noticeUrls: record.noticeUrls,
    forceFailReason: customer ? undefined : MESSAGES.customerNotRegistered,
  });
  if (!customer) {
    payment.data.card_code = null;
    payment.data.card_name = null;
    payment.data.card_number = null;
    payment.data.card_type = null;
  }
  s.imp_uid = payment.data.imp_uid;
  s.executed_at = ops.state.now();
  s.schedule_status = 'executed';
  s.payment_status = payment.data.status;
  s.fail_reason = payment.data.fail_reason;
  s.pg_provider = payment.data.pg_provider;
  s.pg_id = payment.data.pg_id;
  return notify(ops, payment);
}

/** Executes every schedule that is due at the current emulator time, oldest first. */
export function runDueSchedules(ops: Ops): { executed: number; deliveries: Promise<WebhookDelivery[]> } {
  const now = ops.state.now();
  const due: { store: MerchantStore; record: ScheduleRecord }[] = [];
  for (const store of ops.state.stores.values()) {
    for (const record of store.schedules.values()) {
      if (record.data.schedule_status === 'scheduled' && record.data.schedule_at <= now) due.push({ store, record });
    }
  }
  due.sort((a, b) => a.record.data.schedule_at - b.record.data.schedule_at || a.record.seq - b.record.seq);
  const deliveries = due.map(({ store, record }) => executeSchedule(ops, store, record));
  return { executed: due.length, deliveries: Promise.all(deliveries).then((d) => d.flat()) };
}
