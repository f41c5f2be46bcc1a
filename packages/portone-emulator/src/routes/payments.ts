/**
 * Payment lookups (notes §5): by imp_uid, several at once, by merchant_uid (one / all) and by status.
 */
import { z } from 'zod';
import { badRequest, MESSAGES, notFound } from '../errors.ts';
import { type AuthedCtx, ok, type RouteTable } from '../http.ts';
import { paginate, pagingSchema, sortingSchema, sortPayments } from '../paging.ts';
import { f, parseParams } from '../params.ts';
import { PAYMENT_STATUSES, type PaymentStatus } from '../resources.ts';
import type { PaymentRecord } from '../state.ts';

const NINETY_DAYS = 90 * 24 * 60 * 60;
const MAX_MULTI = 100;

function paymentStatusParam(value: string | undefined): PaymentStatus | undefined {
  if (value === undefined || value === '') return undefined;
  if (!(PAYMENT_STATUSES as readonly string[]).includes(value)) throw badRequest(MESSAGES.unsupportedStatus);
  return value as PaymentStatus;
}

function getOne(ctx: AuthedCtx) {
  const { include_sandbox } = parseParams(z.object({ include_sandbox: f.optBool() }), ctx.query);
  const record = ctx.store.payments.get(ctx.params.imp_uid ?? '');
  // Since 2026-01-26 sandbox payments are hidden here unless include_sandbox=true (notes §5.1).
  if (!record || (record.data.sandbox && !include_sandbox)) throw notFound(MESSAGES.paymentNotFound);
  return ok(record.data);
}

function getMany(ctx: AuthedCtx) {
  const q = parseParams(z.object({ imp_uid: f.optStrList(), merchant_uid: f.optStrList() }), ctx.query);
  const impUids = q.imp_uid ?? [];
  const merchantUids = q.merchant_uid ?? [];
  const requested = impUids.length + merchantUids.length;
  if (requested === 0) throw badRequest('imp_uid[] 또는 merchant_uid[] 파라메터가 누락되었습니다.');
  if (requested > MAX_MULTI)
    throw badRequest(`imp_uid[]와 merchant_uid[]는 합쳐서 ${MAX_MULTI}개까지 조회할 수 있습니다.`);
  const found = new Map<string, PaymentRecord>();
  let hits = 0;
  for (const id of impUids) {
    const r = ctx.store.payments.get(id);
    if (r) {
      hits += 1;
      found.set(r.data.imp_uid, r);
    }
  }
  for (const id of merchantUids) {
    // A merchant_uid may have several attempts; the latest one answers.
    const r = ctx.store.paymentsFor(id)[0];
    if (r) {
      hits += 1;
      found.set(r.data.imp_uid, r);
    }
  }
  if (hits === 0) throw notFound(MESSAGES.paymentNotFound);
  return ok(
    [...found.values()].map((r) => r.data),
    hits === requested ? 200 : 207,
  );
}

const findSchema = z.object({ sorting: sortingSchema });

function matching(ctx: AuthedCtx): PaymentRecord[] {
  const status = paymentStatusParam(ctx.params.payment_status);
  const { sorting } = parseParams(findSchema, ctx.query);
  const records = ctx.store
    .paymentsFor(ctx.params.merchant_uid ?? '')
    .filter((r) => !status || r.data.status === status);
  return sortPayments(records, sorting);
}

function findOne(ctx: AuthedCtx) {
  const first = matching(ctx)[0];
  if (!first) throw notFound(MESSAGES.paymentNotFound);
  return ok(first.data);
}

function findAll(ctx: AuthedCtx) {
  const { page, limit } = parseParams(pagingSchema, ctx.query);
  const records = matching(ctx);
  if (records.length === 0) throw notFound(MESSAGES.paymentNotFound);
  const paged = paginate(records, page, limit);
  return ok({ ...paged, list: paged.list.map((r) => r.data) });
}

/** The timestamp a payment is filed under in `/payments/status`: the one of its final status (notes §5.5). */
function statusTime(r: PaymentRecord): number {
  const p = r.data;
  switch (p.status) {
    case 'paid':
      return p.paid_at;
    case 'cancelled':
      return p.cancelled_at;
    case 'failed':
      return p.failed_at;
    default:
      return p.started_at;
  }
}

const byStatusSchema = pagingSchema.extend({ from: f.optInt(), to: f.optInt(), sorting: sortingSchema });

function byStatus(ctx: AuthedCtx) {
  const raw = ctx.params.payment_status ?? '';
  if (raw !== 'all' && !(PAYMENT_STATUSES as readonly string[]).includes(raw))
    throw badRequest(MESSAGES.unsupportedStatus);
  const q = parseParams(byStatusSchema, ctx.query);
  const to = q.to ?? ctx.ops.state.now();
  const from = q.from ?? to - NINETY_DAYS;
  if (from > to) throw badRequest('from 파라메터는 to 이전이어야 합니다.');
  if (to - from > NINETY_DAYS) throw badRequest('from ~ to 조회기간은 최대 90일입니다.');
  const records = [...ctx.store.payments.values()].filter((r) => {
    if (raw !== 'all' && r.data.status !== raw) return false;
    const t = statusTime(r);
    return t >= from && t <= to;
  });
  const paged = paginate(sortPayments(records, q.sorting), q.page, q.limit);
  return ok({ ...paged, list: paged.list.map((r) => r.data) });
}

export function registerPaymentRoutes(routes: RouteTable): void {
  routes.authed('GET', '/payments', getMany);
  routes.authed('GET', '/payments/:imp_uid', getOne);
  routes.authed('GET', '/payments/find/:merchant_uid', findOne);
  routes.authed('GET', '/payments/find/:merchant_uid/:payment_status', findOne);
  routes.authed('GET', '/payments/findAll/:merchant_uid', findAll);
  routes.authed('GET', '/payments/findAll/:merchant_uid/:payment_status', findAll);
  routes.authed('GET', '/payments/status/:payment_status', byStatus);
}
