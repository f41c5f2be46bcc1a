/**
 * Non-authenticated payments (notes §10): `onetime` (key-in card, optionally saving it as a billing
 * key) and `again` (charge a billing key). A decline is not an error: `code: 0` with
 * `response.status: 'failed'` and `fail_reason` (magic values in engine.ts). Approved payments send
 * a `paid` webhook; declines send none (only scheduled payments report failures by webhook).
 */
import { z } from 'zod';
import { cardOfCustomer, chargeCard, checkCard, DEFAULT_PG, notify, pgOf } from '../engine.ts';
import { invalidParam, MESSAGES, pgFailure, ruleViolation } from '../errors.ts';
import { type AuthedCtx, ok, type RouteTable } from '../http.ts';
import { buyerFields, f, parseParams } from '../params.ts';
import { cardFields, issueBillingKey } from './customers.ts';

const paymentFields = {
  merchant_uid: f.str(40),
  amount: f.num(),
  currency: f.optStr(3),
  tax_free: f.optNum(),
  vat_amount: f.optNum(),
  card_quota: f.optInt(),
  notice_url: f.optStrList(),
  ...buyerFields,
};

const onetimeSchema = z.object({
  ...paymentFields,
  ...cardFields,
  customer_uid: f.optStr(80),
  pg: f.optStr(),
});

const againSchema = z.object({ ...paymentFields, customer_uid: f.str(80), channel_key: f.optStr() });

function checkAmount(ctx: AuthedCtx, input: { merchant_uid: string; amount: number; tax_free?: number | undefined }) {
  if (input.amount <= 0) throw invalidParam('amount', '0보다 커야 합니다');
  if (input.tax_free !== undefined && (input.tax_free < 0 || input.tax_free > input.amount)) {
    throw invalidParam('tax_free', '0 이상, amount 이하여야 합니다');
  }
  if (ctx.store.hasPaid(input.merchant_uid)) throw ruleViolation(MESSAGES.alreadyPaidMerchantUid);
}

function onetime(ctx: AuthedCtx) {
  const input = parseParams(onetimeSchema, ctx.body);
  checkAmount(ctx, input);
  const now = ctx.ops.state.now();
  const card = checkCard(input.card_number, input.expiry, now, MESSAGES.cardAuthFailed);
  const pg = pgOf(input.pg, DEFAULT_PG.api);
  if (input.customer_uid) {
    // The card is also stored as a billing key; buyer_* become customer_* (notes §10.1).
    issueBillingKey(
      ctx,
      {
        customer_uid: input.customer_uid,
        card_number: input.card_number,
        expiry: input.expiry,
        pg: input.pg,
        customer_id: undefined,
        customer_name: input.buyer_name?.slice(0, 20),
        customer_tel: input.buyer_tel?.slice(0, 20),
        customer_email: input.buyer_email,
        customer_addr: input.buyer_addr,
        customer_postcode: input.buyer_postcode,
      },
      MESSAGES.cardAuthFailed,
    );
  }
  const record = chargeCard(ctx.ops, ctx.store, {
    ...input,
    currency: input.currency ?? 'KRW',
    card,
    pg,
    channel: 'api',
    usage: 'payment',
    noticeUrls: input.notice_url ?? [],
  });
  if (record.data.status === 'paid') void notify(ctx.ops, record);
  return ok(record.data);
}

function again(ctx: AuthedCtx) {
  const input = parseParams(againSchema, ctx.body);
  const customer = ctx.store.customers.get(input.customer_uid);
  if (!customer) throw pgFailure(MESSAGES.customerNotRegistered);
  checkAmount(ctx, input);
  const c = customer.data;
  const record = chargeCard(ctx.ops, ctx.store, {
    ...input,
    buyer_name: input.buyer_name ?? c.customer_name?.slice(0, 16),
    buyer_email: input.buyer_email ?? c.customer_email?.slice(0, 64),
    buyer_tel: input.buyer_tel ?? c.customer_tel?.slice(0, 16),
    buyer_addr: input.buyer_addr ?? c.customer_addr?.slice(0, 128),
    buyer_postcode: input.buyer_postcode ?? c.customer_postcode ?? undefined,
    currency: input.currency ?? 'KRW',
    card: cardOfCustomer(customer),
    pg: { provider: c.pg_provider, id: c.pg_id },
    channel: 'api',
    usage: 'payment',
    noticeUrls: input.notice_url ?? [],
  });
  if (record.data.status === 'paid') void notify(ctx.ops, record);
  return ok(record.data);
}

export function registerSubscribeRoutes(routes: RouteTable): void {
  routes.authed('POST', '/subscribe/payments/onetime', onetime);
  routes.authed('POST', '/subscribe/payments/again', again);
}
