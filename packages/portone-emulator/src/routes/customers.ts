/**
 * Billing keys (notes §9). `POST /subscribe/customers/{customer_uid}` checks the card, keeps only
 * its company and masked number, and replaces an existing key with the same customer_uid. Deleting a
 * key leaves its pending schedules alone: they fail when they come due (README).
 */
import { z } from 'zod';
import { checkCard, DEFAULT_PG, pgOf } from '../engine.ts';
import { badRequest, customerNotFoundMessage, MESSAGES, notFound } from '../errors.ts';
import { type AuthedCtx, ok, type RouteTable } from '../http.ts';
import { paginate, pagingSchema, sortPayments } from '../paging.ts';
import { f, parseParams } from '../params.ts';
import type { Customer } from '../resources.ts';
import type { CustomerRecord, MerchantStore } from '../state.ts';

export const customerFields = {
  customer_id: f.optStr(),
  customer_name: f.optStr(20),
  customer_tel: f.optStr(20),
  customer_email: f.optStr(200),
  customer_addr: f.optStr(200),
  customer_postcode: f.optStr(8),
};

export const cardFields = {
  card_number: f.str(),
  expiry: f.str(),
  birth: f.optStr(10),
  pwd_2digit: f.optStr(2),
  cvc: f.optStr(4),
};

const issueSchema = z.object({
  customer_uid: f.str(80),
  channel_key: f.optStr(),
  pg: f.optStr(),
  channel_group_id: f.optStr(),
  ...cardFields,
  ...customerFields,
});

export type IssueInput = Omit<
  z.output<typeof issueSchema>,
  'channel_key' | 'channel_group_id' | 'birth' | 'pwd_2digit' | 'cvc'
>;

/** Issues (or replaces) a billing key. Throws `code: -1` when the card check fails. */
export function issueBillingKey(
  ctx: Pick<AuthedCtx, 'ops' | 'store'>,
  input: IssueInput,
  failureMessage: string = MESSAGES.billingKeyFailed,
): CustomerRecord {
  const now = ctx.ops.state.now();
  const card = checkCard(input.card_number, input.expiry, now, failureMessage);
  const pg = pgOf(input.pg, DEFAULT_PG.api);
  const previous = ctx.store.customers.get(input.customer_uid);
  const data: Customer = {
    customer_uid: input.customer_uid,
    pg_provider: pg.provider,
    pg_id: pg.id,
    sandbox: ctx.ops.state.sandbox,
    customer_id: input.customer_id ?? null,
    card_name: card.name,
    card_code: card.code,
    card_issuer_code: card.code,
    card_issuer_name: card.name,
    card_publisher_code: card.code,
    card_publisher_name: card.name,
    card_number: card.masked,
    card_type: 0,
    customer_name: input.customer_name ?? null,
    customer_tel: input.customer_tel ?? null,
    customer_email: input.customer_email ?? null,
    customer_addr: input.customer_addr ?? null,
    customer_postcode: input.customer_postcode ?? null,
    inserted: previous?.data.inserted ?? now,
    updated: now,
  };
  const record: CustomerRecord = { data, declines: card.declines };
  ctx.store.customers.set(input.customer_uid, record);
  return record;
}

function known(store: MerchantStore, customerUid: string): CustomerRecord {
  const record = store.customers.get(customerUid);
  if (!record) throw notFound(customerNotFoundMessage(customerUid));
  return record;
}

function issue(ctx: AuthedCtx) {
  const input = parseParams(issueSchema, { ...ctx.body, customer_uid: ctx.params.customer_uid });
  return ok(issueBillingKey(ctx, input).data);
}

function getMany(ctx: AuthedCtx) {
  const { customer_uid } = parseParams(z.object({ customer_uid: f.optStrList() }), ctx.query);
  if (!customer_uid || customer_uid.length === 0) throw badRequest('customer_uid[] 파라메터가 누락되었습니다.');
  const found = customer_uid.map((uid) => ctx.store.customers.get(uid)).filter((c) => c !== undefined);
  if (found.length === 0) throw notFound(customerNotFoundMessage(customer_uid.join(', ')));
  const unique = [...new Set(found)].map((c) => c.data);
  return ok(unique, found.length === customer_uid.length ? 200 : 207);
}

function payments(ctx: AuthedCtx) {
  const customerUid = ctx.params.customer_uid ?? '';
  known(ctx.store, customerUid);
  const { page, limit } = parseParams(pagingSchema, ctx.query);
  const records = [...ctx.store.payments.values()].filter((r) => r.data.customer_uid === customerUid);
  const paged = paginate(sortPayments(records), page, limit);
  return ok({ ...paged, list: paged.list.map((r) => r.data) });
}

export function registerCustomerRoutes(routes: RouteTable): void {
  routes.authed('GET', '/subscribe/customers', getMany);
  routes.authed('POST', '/subscribe/customers/:customer_uid', issue);
  routes.authed('GET', '/subscribe/customers/:customer_uid', (ctx) =>
    ok(known(ctx.store, ctx.params.customer_uid ?? '').data),
  );
  routes.authed('DELETE', '/subscribe/customers/:customer_uid', (ctx) => {
    const record = known(ctx.store, ctx.params.customer_uid ?? '');
    ctx.store.customers.delete(record.data.customer_uid);
    return ok(record.data);
  });
  routes.authed('GET', '/subscribe/customers/:customer_uid/payments', payments);
}
