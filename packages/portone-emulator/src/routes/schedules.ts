/**
 * Scheduled payments (notes §11). The executor lives in engine.ts and runs when the clock passes
 * `schedule_at` (`POST /__emulator/clock/advance`, or every second with the real clock).
 * Listings answer the paged shape `{ total, previous, next, list }` (notes §11, "implement paged").
 */
import { z } from 'zod';
import { scheduleView } from '../engine.ts';
import { badRequest, invalidParam, MESSAGES, notFound, ruleViolation } from '../errors.ts';
import { type AuthedCtx, ok, type RouteTable } from '../http.ts';
import { paginate, pagingSchema } from '../paging.ts';
import { f, parseParams } from '../params.ts';
import { SCHEDULE_STATUSES, type ScheduleResult, type ScheduleStatus } from '../resources.ts';
import type { ScheduleRecord } from '../state.ts';
import { cardFields, customerFields, issueBillingKey } from './customers.ts';

const scheduleItem = z.object({
  merchant_uid: f.str(40),
  schedule_at: f.int(),
  amount: f.num(),
  currency: f.optStr(3),
  name: f.optStr(40),
  tax_free: f.optNum(),
  vat_amount: f.optNum(),
  buyer_name: f.optStr(16),
  buyer_email: f.optStr(64),
  buyer_tel: f.optStr(16),
  buyer_addr: f.optStr(128),
  buyer_postcode: f.optStr(8),
  custom_data: f.optJsonString(),
  notice_url: f.optStrList(),
  promotion_id: f.optStr(),
});

const createSchema = z.object({
  customer_uid: f.str(80),
  channel_key: f.optStr(),
  pg: f.optStr(),
  checking_amount: f.optInt(),
  card_number: cardFields.card_number.optional(),
  expiry: cardFields.expiry.optional(),
  birth: cardFields.birth,
  pwd_2digit: cardFields.pwd_2digit,
  ...customerFields,
  schedules: z.array(scheduleItem).min(1),
});

function create(ctx: AuthedCtx) {
  const input = parseParams(createSchema, ctx.body);
  const { state } = ctx.ops;
  const seen = new Set<string>();
  for (const [i, s] of input.schedules.entries()) {
    if (s.amount <= 0) throw invalidParam(`schedules[${i}].amount`, '0보다 커야 합니다');
    if (ctx.store.schedules.has(s.merchant_uid) || seen.has(s.merchant_uid)) {
      throw ruleViolation(`${MESSAGES.scheduleDuplicate} (merchant_uid: ${s.merchant_uid})`);
    }
    seen.add(s.merchant_uid);
  }
  let customer = ctx.store.customers.get(input.customer_uid);
  if (!customer) {
    if (!input.card_number || !input.expiry) throw ruleViolation(MESSAGES.scheduleCustomerMissing);
    customer = issueBillingKey(ctx, { ...input, card_number: input.card_number, expiry: input.expiry });
  } else if (input.card_number && input.expiry) {
    // Card fields with an existing key re-issue it, like POST /subscribe/customers/{uid}.
    customer = issueBillingKey(ctx, { ...input, card_number: input.card_number, expiry: input.expiry });
  }
  const c = customer.data;
  const created: ScheduleResult[] = [];
  for (const s of input.schedules) {
    // Missing buyer_* come from the billing key's customer_* (notes §11.1).
    const data: ScheduleResult = {
      customer_uid: input.customer_uid,
      merchant_uid: s.merchant_uid,
      imp_uid: null,
      pg_provider: c.pg_provider,
      pg_id: c.pg_id,
      customer_id: input.customer_id ?? c.customer_id,
      schedule_at: s.schedule_at,
      executed_at: 0,
      revoked_at: 0,
      amount: s.amount,
      currency: s.currency ?? 'KRW',
      name: s.name ?? null,
      buyer_name: s.buyer_name ?? c.customer_name?.slice(0, 16) ?? null,
      buyer_email: s.buyer_email ?? c.customer_email?.slice(0, 64) ?? null,
      buyer_tel: s.buyer_tel ?? c.customer_tel?.slice(0, 16) ?? null,
      buyer_addr: s.buyer_addr ?? c.customer_addr?.slice(0, 128) ?? null,
      buyer_postcode: s.buyer_postcode ?? c.customer_postcode,
      custom_data: s.custom_data ?? null,
      schedule_status: 'scheduled',
      payment_status: null,
      fail_reason: null,
      promotion_id: s.promotion_id ?? null,
    };
    ctx.store.schedules.set(s.merchant_uid, { seq: state.nextSeq(), data, noticeUrls: s.notice_url ?? [] });
    created.push({ ...data });
  }
  return ok(created);
}

const unscheduleSchema = z.object({ customer_uid: f.optStr(80), merchant_uid: f.optStrList() });

function unschedule(ctx: AuthedCtx) {
  const input = parseParams(unscheduleSchema, ctx.body);
  const merchantUids = input.merchant_uid ?? [];
  if (!input.customer_uid && merchantUids.length === 0) {
    throw badRequest('customer_uid 또는 merchant_uid 파라메터가 누락되었습니다.');
  }
  const targets = [...ctx.store.schedules.values()].filter(
    (r) =>
      r.data.schedule_status === 'scheduled' &&
      (!input.customer_uid || r.data.customer_uid === input.customer_uid) &&
      (merchantUids.length === 0 || merchantUids.includes(r.data.merchant_uid)),
  );
  if (targets.length === 0) throw ruleViolation(MESSAGES.unscheduleNothing);
  const now = ctx.ops.state.now();
  for (const r of targets) {
    r.data.schedule_status = 'revoked';
    r.data.revoked_at = now;
  }
  return ok(targets.sort((a, b) => a.seq - b.seq).map((r) => scheduleView(ctx.ops, r)));
}

function known(ctx: AuthedCtx): ScheduleRecord {
  const record = ctx.store.schedules.get(ctx.params.merchant_uid ?? '');
  if (!record) throw notFound(MESSAGES.scheduleNotFound);
  return record;
}

const statusParam = z.preprocess((v) => (v === '' ? undefined : v), z.enum(SCHEDULE_STATUSES).optional());

/** Both spellings are accepted: `from`/`to`/`schedule-status` (spec) and `schedule_from`/... (Java client). */
const byCustomerSchema = pagingSchema.extend({
  from: f.optInt(),
  to: f.optInt(),
  schedule_from: f.optInt(),
  schedule_to: f.optInt(),
  'schedule-status': statusParam,
  schedule_status: statusParam,
});

function inWindow(records: ScheduleRecord[], window: { from: number; to: number }, status?: ScheduleStatus) {
  return records.filter(
    (r) =>
      r.data.schedule_at >= window.from &&
      r.data.schedule_at < window.to &&
      (!status || r.data.schedule_status === status),
  );
}

function byCustomer(ctx: AuthedCtx) {
  const q = parseParams(byCustomerSchema, ctx.query);
  const from = q.from ?? q.schedule_from;
  const to = q.to ?? q.schedule_to;
  if (from === undefined) throw badRequest('from 파라메터가 누락되었습니다.');
  if (to === undefined) throw badRequest('to 파라메터가 누락되었습니다.');
  const customerUid = ctx.params.customer_uid ?? '';
  const mine = [...ctx.store.schedules.values()].filter((r) => r.data.customer_uid === customerUid);
  const matches = inWindow(mine, { from, to }, q['schedule-status'] ?? q.schedule_status);
  matches.sort((a, b) => b.data.schedule_at - a.data.schedule_at || b.seq - a.seq);
  const paged = paginate(matches, q.page, q.limit);
  return ok({ ...paged, list: paged.list.map((r) => scheduleView(ctx.ops, r)) });
}

const allSchema = pagingSchema.extend({
  schedule_from: f.int(),
  schedule_to: f.int(),
  schedule_status: statusParam,
  sorting: z.preprocess((v) => (v === '' ? undefined : v), z.enum(['scheduled']).optional()),
});

function all(ctx: AuthedCtx) {
  const q = parseParams(allSchema, ctx.query);
  const matches = inWindow(
    [...ctx.store.schedules.values()],
    { from: q.schedule_from, to: q.schedule_to },
    q.schedule_status,
  );
  // Default newest schedule_at first; `sorting=scheduled` oldest first.
  const sign = q.sorting === 'scheduled' ? 1 : -1;
  matches.sort((a, b) => sign * (a.data.schedule_at - b.data.schedule_at || a.seq - b.seq));
  const paged = paginate(matches, q.page, q.limit);
  return ok({ ...paged, list: paged.list.map((r) => scheduleView(ctx.ops, r)) });
}

const updateSchema = z.object({ schedule_at: f.int() });

function update(ctx: AuthedCtx) {
  const { schedule_at } = parseParams(updateSchema, ctx.body);
  const record = known(ctx);
  if (record.data.schedule_status !== 'scheduled')
    throw badRequest('예약 상태(scheduled)의 결제예약만 변경할 수 있습니다.');
  if (schedule_at <= ctx.ops.state.now()) throw invalidParam('schedule_at', '현재시각 이후여야 합니다');
  record.data.schedule_at = schedule_at;
  return ok(scheduleView(ctx.ops, record));
}

export function registerScheduleRoutes(routes: RouteTable): void {
  routes.authed('POST', '/subscribe/payments/schedule', create);
  routes.authed('GET', '/subscribe/payments/schedule', all);
  routes.authed('POST', '/subscribe/payments/unschedule', unschedule);
  routes.authed('GET', '/subscribe/payments/schedule/:merchant_uid', (ctx) => ok(scheduleView(ctx.ops, known(ctx))));
  routes.authed('PUT', '/subscribe/payments/schedule/:merchant_uid', update);
  routes.authed('GET', '/subscribe/payments/schedule/customers/:customer_uid', byCustomer);
  routes.authed('GET', '/subscribe/customers/:customer_uid/schedules', byCustomer);
}
