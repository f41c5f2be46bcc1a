/**
 * REST-issued virtual accounts (notes §8): issue, change amount/due, revoke. Deposits happen through
 * the control API (`POST /__emulator/vbanks/{imp_uid}/deposit`). `channel_key` is accepted but not
 * required: without it `pg` (`{pg}` or `{pg}.{MID}`) or the default channel is used (README).
 */
import { z } from 'zod';
import { normaliseBankCode } from '../code-tables.ts';
import { DEFAULT_PG, issueVbank, notify, pgOf } from '../engine.ts';
import { badRequest, invalidParam, MESSAGES, notFound, ruleViolation } from '../errors.ts';
import { type AuthedCtx, ok, type RouteTable } from '../http.ts';
import { buyerFields, f, parseParams } from '../params.ts';

const issueSchema = z.object({
  channel_key: f.optStr(),
  pg: f.optStr(),
  merchant_uid: f.str(40),
  amount: f.num(),
  currency: f.optStr(3),
  vbank_code: f.str(),
  vbank_due: f.int(),
  vbank_holder: f.optStr(),
  vbank_num: f.optStr(32),
  notice_url: f.optStrList(),
  ...buyerFields,
});

/** Bank code in any PG's request form (`04`, `004`, `BK04`) → 3-digit standard code, or a 400. */
export function bankCodeParam(name: string, value: string): string {
  const code = normaliseBankCode(value);
  if (!code) throw invalidParam(name, '지원되지 않는 은행코드입니다');
  return code;
}

function issue(ctx: AuthedCtx) {
  const input = parseParams(issueSchema, ctx.body);
  const now = ctx.ops.state.now();
  if (input.amount <= 0) throw invalidParam('amount', '0보다 커야 합니다');
  const vbankCode = bankCodeParam('vbank_code', input.vbank_code);
  if (input.vbank_due <= now) throw ruleViolation(MESSAGES.vbankDueInPast);
  if (ctx.store.hasPaid(input.merchant_uid)) throw ruleViolation(MESSAGES.alreadyPaidMerchantUid);
  const record = issueVbank(ctx.ops, ctx.store, {
    ...input,
    currency: input.currency ?? 'KRW',
    vbank_code: vbankCode,
    pg: pgOf(input.pg, DEFAULT_PG.api),
    channel: 'api',
    noticeUrls: input.notice_url ?? [],
  });
  // Virtual-account issue is a `ready` webhook event (notes §13.2), REST-issued ones included.
  void notify(ctx.ops, record, 'ready');
  return ok(record.data);
}

function readyVbank(ctx: AuthedCtx) {
  const record = ctx.store.payments.get(ctx.params.imp_uid ?? '');
  if (!record) throw notFound(MESSAGES.paymentNotFound);
  if (record.data.pay_method !== 'vbank') throw badRequest(MESSAGES.notVbank);
  if (record.data.status !== 'ready') throw badRequest(MESSAGES.vbankNotReady);
  return record;
}

const editSchema = z.object({ amount: f.optNum(), vbank_due: f.optInt() });

function edit(ctx: AuthedCtx) {
  const input = parseParams(editSchema, ctx.body);
  const record = readyVbank(ctx);
  const now = ctx.ops.state.now();
  if (input.amount !== undefined && input.amount <= 0) throw invalidParam('amount', '0보다 커야 합니다');
  if (input.vbank_due !== undefined && input.vbank_due <= now) throw badRequest(MESSAGES.vbankDueInPast);
  if (input.amount !== undefined) record.data.amount = input.amount;
  if (input.vbank_due !== undefined) record.data.vbank_date = input.vbank_due;
  record.updated = now;
  return ok(record.data);
}

/** Revokes an unpaid account: `cancelled`, `cancelled_at` = now; nothing was paid, so `cancel_amount` stays 0. */
function revoke(ctx: AuthedCtx) {
  const record = readyVbank(ctx);
  const now = ctx.ops.state.now();
  record.data.status = 'cancelled';
  record.data.cancelled_at = now;
  record.data.cancel_reason = typeof ctx.query.reason === 'string' ? ctx.query.reason : '가상계좌 발급취소';
  record.updated = now;
  return ok(record.data);
}

export function registerVbankRoutes(routes: RouteTable): void {
  routes.authed('POST', '/vbanks', issue);
  routes.authed('PUT', '/vbanks/:imp_uid', edit);
  routes.authed('DELETE', '/vbanks/:imp_uid', revoke);
}
