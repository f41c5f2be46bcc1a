/**
 * Amount pre-registration (notes §7): `POST /payments/prepare`, `PUT /payments/prepare`,
 * `GET /payments/prepare/{merchant_uid}`. The checkout hook of the control API honours it.
 */
import { z } from 'zod';
import { MESSAGES, notFound, ruleViolation } from '../errors.ts';
import { type AuthedCtx, ok, type RouteTable } from '../http.ts';
import { f, parseParams } from '../params.ts';
import type { Prepared } from '../resources.ts';

const prepareSchema = z.object({ merchant_uid: f.str(40), amount: f.num(), currency: f.optStr(3) });

function read(ctx: AuthedCtx): Prepared {
  const input = parseParams(prepareSchema, ctx.body);
  return { merchant_uid: input.merchant_uid, amount: input.amount, currency: input.currency ?? null };
}

export function registerPrepareRoutes(routes: RouteTable): void {
  routes.authed('POST', '/payments/prepare', (ctx) => {
    const prepared = read(ctx);
    if (ctx.store.prepared.has(prepared.merchant_uid)) throw ruleViolation(MESSAGES.prepareDuplicate);
    ctx.store.prepared.set(prepared.merchant_uid, prepared);
    return ok(prepared);
  });
  routes.authed('PUT', '/payments/prepare', (ctx) => {
    const prepared = read(ctx);
    if (!ctx.store.prepared.has(prepared.merchant_uid)) throw notFound(MESSAGES.prepareNotFound);
    ctx.store.prepared.set(prepared.merchant_uid, prepared);
    return ok(prepared);
  });
  routes.authed('GET', '/payments/prepare/:merchant_uid', (ctx) => {
    const prepared = ctx.store.prepared.get(ctx.params.merchant_uid ?? '');
    if (!prepared) throw notFound(MESSAGES.prepareNotFound);
    return ok(prepared);
  });
}
