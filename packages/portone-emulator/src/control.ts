/**
 * The control API under `/__emulator` (no auth, JSON in/out): what a browser, a bank or PortOne's
 * console would do, plus test levers (clock, faults, webhooks, stats). Request bodies are strict:
 * an unknown field is a 400, so a typo in a test does not silently do nothing.
 * Operations that cause webhooks (checkout, deposit, clock advance, webhooks/send) answer after the
 * deliveries have finished, so a test can assert on the receiver right away.
 */
import { z } from 'zod';
import { cardCompany, maskCardNumber, normaliseBankCode } from './code-tables.ts';
import {
  chargeCard,
  checkCard,
  DECLINE_REASONS,
  DEFAULT_PG,
  depositVbank,
  issueVbank,
  notify,
  type Ops,
  payOther,
  pgOf,
  runDueSchedules,
} from './engine.ts';
import { badRequest, MESSAGES, notFound, ruleViolation } from './errors.ts';
import { type FaultRegistry, faultSchema } from './faults.ts';
import { type Ctx, json, ok, type RouteTable } from './http.ts';
import { parseParams } from './params.ts';
import type { PaymentRecord } from './state.ts';
import type { WebhookDelivery, WebhookStatus } from './webhooks.ts';

const WEBHOOK_STATUSES = ['paid', 'ready', 'cancelled', 'failed'] as const;
const THREE_DAYS = 3 * 24 * 60 * 60;
/** The card a checkout pays with when none is given (masked as 457972******1234). */
const DEFAULT_CHECKOUT_CARD = '4579720000001234';

const optText = (max: number) => z.string().max(max).optional();

const checkoutSchema = z.strictObject({
  merchant_uid: z.string().min(1).max(40),
  /** Choose the imp_uid instead of a generated one (must be unused). */
  imp_uid: z
    .string()
    .regex(/^imp_[A-Za-z0-9_]{1,28}$/)
    .optional(),
  amount: z.number().positive(),
  currency: z.string().min(1).max(3).optional(),
  pay_method: z.string().min(1).max(20).optional(),
  outcome: z.enum(['paid', 'failed']).optional(),
  fail_reason: z.string().optional(),
  name: optText(40),
  buyer_name: optText(16),
  buyer_email: optText(64),
  buyer_tel: optText(16),
  buyer_addr: optText(128),
  buyer_postcode: optText(8),
  custom_data: z.union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())]).optional(),
  notice_url: z.union([z.string(), z.array(z.string())]).optional(),
  imp_key: z.string().optional(),
  tier: z.string().optional(),
  pg: z.string().optional(),
  channel: z.enum(['pc', 'mobile']).optional(),
  card_number: z.string().optional(),
  vbank_code: z.string().optional(),
  vbank_due: z.number().int().optional(),
  vbank_holder: z.string().optional(),
  sandbox: z.boolean().optional(),
  user_agent: z.string().optional(),
});

function storeFor(ops: Ops, impKey: string | undefined, tier: string | undefined) {
  const merchant = impKey === undefined ? ops.state.firstMerchant : ops.state.merchants.get(impKey);
  if (!merchant) throw badRequest(`imp_key ${impKey}: 등록되지 않은 가맹점입니다.`);
  if (tier !== undefined && !merchant.tiers?.[tier]) throw badRequest(`${MESSAGES.tierNotFound} Tier: ${tier}`);
  return ops.state.store(merchant.impKey, tier ?? '');
}

/** A customer pays in the browser (JS SDK `IMP.request_pay`), honouring a prepared amount (notes §7). */
async function checkout(ops: Ops, ctx: Ctx) {
  const input = parseParams(checkoutSchema, ctx.body);
  const store = storeFor(ops, input.imp_key, input.tier);
  const currency = input.currency ?? 'KRW';
  const prepared = store.prepared.get(input.merchant_uid);
  if (
    prepared &&
    (prepared.amount !== input.amount || (prepared.currency !== null && prepared.currency !== currency))
  ) {
    throw ruleViolation(
      `${MESSAGES.prepareMismatch} (사전등록: ${prepared.amount} ${prepared.currency ?? ''}, 요청: ${input.amount} ${currency})`,
    );
  }
  if (store.hasPaid(input.merchant_uid)) throw ruleViolation(MESSAGES.alreadyPaidMerchantUid);
  if (input.imp_uid !== undefined) {
    if (ops.state.paymentIndex.has(input.imp_uid)) throw ruleViolation(`imp_uid ${input.imp_uid} is already in use`);
    // Taken by the payment created just below, in this same synchronous step.
    ops.state.useImpUidOnce(input.imp_uid);
  }

  const now = ops.state.now();
  const payMethod = input.pay_method ?? 'card';
  const failReason = input.outcome === 'failed' ? (input.fail_reason ?? DECLINE_REASONS.checkout) : undefined;
  const { imp_uid: _chosen, ...fields } = input;
  const common = {
    ...fields,
    custom_data:
      input.custom_data === undefined || typeof input.custom_data === 'string'
        ? input.custom_data
        : JSON.stringify(input.custom_data),
    currency,
    channel: input.channel ?? 'pc',
    pg: pgOf(input.pg, DEFAULT_PG.window),
    noticeUrls: input.notice_url === undefined ? [] : [input.notice_url].flat(),
  } as const;

  let record: PaymentRecord;
  try {
    if (payMethod === 'card') {
      const card = input.card_number
        ? checkCard(input.card_number, '2099-12', now, MESSAGES.cardAuthFailed)
        : { ...cardCompany(DEFAULT_CHECKOUT_CARD), masked: maskCardNumber(DEFAULT_CHECKOUT_CARD), declines: false };
      // The checkout outcome decides; magic declines only apply to REST payments.
      record = chargeCard(ops, store, {
        ...common,
        card: { ...card, declines: false },
        usage: null,
        forceFailReason: failReason,
      });
    } else if (payMethod === 'vbank' && !failReason) {
      const vbankCode = normaliseBankCode(input.vbank_code ?? '004');
      if (!vbankCode) throw badRequest(`vbank_code 파라메터가 올바르지 않습니다. (${input.vbank_code})`);
      const due = input.vbank_due ?? now + THREE_DAYS;
      if (due <= now) throw ruleViolation(MESSAGES.vbankDueInPast);
      record = issueVbank(ops, store, { ...common, vbank_code: vbankCode, vbank_due: due });
    } else {
      record = payOther(ops, store, { ...common, pay_method: payMethod, failReason });
    }
  } finally {
    ops.state.forgetChosenImpUid();
  }
  if (input.sandbox !== undefined) record.data.sandbox = input.sandbox;
  if (input.user_agent !== undefined) record.data.user_agent = input.user_agent;
  // Window failures send no webhook (notes §13.2).
  if (record.data.status !== 'failed') await notify(ops, record);
  return ok(record.data);
}

function payment(ops: Ops, impUid: string | undefined): PaymentRecord {
  const record = ops.state.paymentIndex.get(impUid ?? '');
  if (!record) throw notFound(MESSAGES.paymentNotFound);
  return record;
}

const webhookConfigSchema = z.strictObject({
  url: z.string().url().nullable(),
  format: z.enum(['json', 'form']).optional(),
  retries: z.number().int().min(0).max(5).optional(),
  retryDelayMs: z.number().int().min(0).optional(),
  timeoutMs: z.number().int().min(1).optional(),
});

const sendSchema = z.strictObject({
  imp_uid: z.string(),
  status: z.enum(WEBHOOK_STATUSES).optional(),
  times: z.number().int().min(1).max(100).optional(),
  url: z.string().url().optional(),
});

const batchSchema = z.strictObject({
  events: z.array(z.strictObject({ imp_uid: z.string(), status: z.enum(WEBHOOK_STATUSES).optional() })).min(1),
  order: z.enum(['as-given', 'reverse', 'shuffle']).optional(),
  url: z.string().url().optional(),
});

/** Sends one webhook (possibly forged: any status) and waits for it; there must be somewhere to send it. */
async function sendNow(ops: Ops, impUid: string, status: WebhookStatus | undefined, url: string | undefined) {
  const record = payment(ops, impUid);
  if (!url && ops.webhooks.targets(record.noticeUrls).length === 0) {
    throw badRequest('webhook URL이 설정되지 않았습니다: PUT /__emulator/webhook 또는 url을 지정하세요.');
  }
  return notify(ops, record, status ?? record.data.status, { url });
}

function shuffle<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

export function registerControlRoutes(routes: RouteTable, deps: { ops: Ops; faults: FaultRegistry }): void {
  const { ops, faults } = deps;
  const { state, webhooks } = ops;

  routes.control('GET', '', () =>
    json({
      name: 'portone-emulator',
      now: state.now(),
      clock: state.clock.mode,
      merchants: [...state.merchants.keys()],
      webhook: webhooks.config,
    }),
  );
  routes.control('POST', '/reset', () => {
    state.reset();
    faults.clear();
    webhooks.clearLog();
    return json({ ok: true, now: state.now() });
  });

  routes.control('GET', '/clock', () => json({ now: state.now() }));
  routes.control('POST', '/clock/advance', async (ctx) => {
    const { seconds } = parseParams(z.strictObject({ seconds: z.number().int().min(0) }), ctx.body);
    const now = state.clock.advance(seconds);
    const { executed, deliveries } = runDueSchedules(ops);
    await deliveries;
    return json({ now, executedSchedules: executed });
  });

  routes.control('POST', '/checkout', (ctx) => checkout(ops, ctx));
  routes.control('GET', '/payments/:imp_uid', (ctx) => json(payment(ops, ctx.params.imp_uid).data));
  routes.control('POST', '/vbanks/:imp_uid/deposit', async (ctx) => {
    const { amount } = parseParams(z.strictObject({ amount: z.number().positive().optional() }), ctx.body);
    const record = payment(ops, ctx.params.imp_uid);
    depositVbank(ops, record, amount);
    await notify(ops, record, 'paid');
    return ok(record.data);
  });

  routes.control('GET', '/faults', () => json(faults.list()));
  routes.control('POST', '/faults', (ctx) => json({ id: faults.add(parseParams(faultSchema, ctx.body)).id }));
  routes.control('DELETE', '/faults', () => {
    const cleared = faults.list().length;
    faults.clear();
    return json({ cleared });
  });

  routes.control('GET', '/stats', () => json(state.stats));

  routes.control('GET', '/webhook', () => json(webhooks.config));
  routes.control('PUT', '/webhook', (ctx) => {
    const input = parseParams(webhookConfigSchema, ctx.body);
    webhooks.config = { ...webhooks.config, ...input, format: input.format ?? webhooks.config.format };
    return json(webhooks.config);
  });
  routes.control('GET', '/webhooks', () => json(webhooks.deliveries()));
  routes.control('DELETE', '/webhooks', () => {
    webhooks.clearLog();
    return json({ ok: true });
  });
  routes.control('POST', '/webhooks/flush', async () => {
    await webhooks.flush();
    return json(webhooks.deliveries());
  });
  routes.control('POST', '/webhooks/send', async (ctx) => {
    const input = parseParams(sendSchema, ctx.body);
    const deliveries: WebhookDelivery[] = [];
    for (let i = 0; i < (input.times ?? 1); i++)
      deliveries.push(...(await sendNow(ops, input.imp_uid, input.status, input.url)));
    return json({ deliveries });
  });
  routes.control('POST', '/webhooks/send-batch', async (ctx) => {
    const input = parseParams(batchSchema, ctx.body);
    for (const event of input.events) payment(ops, event.imp_uid);
    const order = input.order ?? 'as-given';
    const events =
      order === 'reverse' ? [...input.events].reverse() : order === 'shuffle' ? shuffle(input.events) : input.events;
    const deliveries: WebhookDelivery[] = [];
    for (const event of events) deliveries.push(...(await sendNow(ops, event.imp_uid, event.status, input.url)));
    return json({ deliveries });
  });
}
