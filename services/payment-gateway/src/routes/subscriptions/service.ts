import { type Customer, type Payment, PortOneNotFoundError, type ScheduleResult } from '@repo/portone-client';
import { unixSeconds } from '@repo/service-kit';
import type { z } from 'zod';
import { BillingKeyNotFoundError, PaymentDeclinedError } from '../../errors.ts';
import { chargeOnce, findCharge } from '../../idempotency/charge-once.ts';
import { DEFAULT_CURRENCY } from '../../money.ts';
import type { RequestContext, ServiceContext } from '../../service-context.ts';
import {
  type BillingKeyRecord,
  getBillingKey as getStoredBillingKey,
  listBillingKeys as listStoredBillingKeys,
  markBillingKeyDeleted,
  upsertBillingKey,
} from '../../store/billing-key.repository.ts';
import { upsertPaymentFromPortOne } from '../../store/payment.repository.ts';
import { markSchedulesRevoked, upsertSchedules } from '../../store/schedule.repository.ts';
import type {
  IssueBillingKeyBody,
  ListBillingKeysQuery,
  PayBody,
  ScheduleBody,
  SchedulesQuery,
  UnscheduleBody,
} from './schemas.ts';

const DAY = 86_400;
/** Default lookup window either side of now; PortOne answers at most ~3 months per query. */
const SCHEDULE_WINDOW_DAYS = 90;

const customData = (v: string | Record<string, unknown> | undefined) =>
  v === undefined ? {} : { custom_data: typeof v === 'string' ? v : JSON.stringify(v) };

const unix = (date: Date | null) => (date ? Math.floor(date.getTime() / 1000) : null);

/** Our stored metadata in the API's snake_case (no card data beyond PortOne's masked number). */
function toApiBillingKey(k: BillingKeyRecord) {
  return {
    customer_uid: k.customerUid,
    pg_provider: k.pgProvider,
    pg_id: k.pgId,
    card_name: k.cardName,
    card_code: k.cardCode,
    card_number: k.cardNumber,
    card_type: k.cardType,
    customer_name: k.customerName,
    customer_email: k.customerEmail,
    inserted: unix(k.insertedAt),
    updated: unix(k.portoneUpdatedAt),
    deleted_at: unix(k.deletedAt),
  };
}

export async function listBillingKeys(ctx: ServiceContext, query: z.output<typeof ListBillingKeysQuery>) {
  const { total, items } = await listStoredBillingKeys(ctx.db, {
    includeDeleted: query.include_deleted,
    page: query.page,
    limit: query.limit,
  });
  const next = query.page * query.limit < total ? query.page + 1 : 0;
  return { total, page: query.page, limit: query.limit, next, items: items.map(toApiBillingKey) };
}

/**
 * Card data goes to PortOne and nowhere else: it is not stored, not logged (the logger's redact list
 * covers these keys, and this function logs only the customer_uid) and not part of the answer.
 */
export async function issueBillingKey(ctx: ServiceContext, body: z.output<typeof IssueBillingKeyBody>) {
  const customer = await ctx.portone.billingKeys.issue(body);
  await upsertBillingKey(ctx.db, customer);
  ctx.log.info({ customerUid: customer.customer_uid, pgProvider: customer.pg_provider }, 'billing key issued');
  return customer;
}

export async function getBillingKey(ctx: ServiceContext, customerUid: string): Promise<Customer> {
  try {
    const customer = await ctx.portone.billingKeys.get({ customer_uid: customerUid });
    await upsertBillingKey(ctx.db, customer);
    return customer;
  } catch (error) {
    if (error instanceof PortOneNotFoundError) {
      throw new BillingKeyNotFoundError(`no billing key for customer_uid ${customerUid} at PortOne`, { cause: error });
    }
    throw error;
  }
}

export async function deleteBillingKey(ctx: ServiceContext, customerUid: string): Promise<Customer> {
  try {
    const customer = await ctx.portone.billingKeys.delete({ customer_uid: customerUid });
    await markBillingKeyDeleted(ctx.db, customerUid);
    ctx.log.info({ customerUid }, 'billing key deleted');
    return customer;
  } catch (error) {
    if (error instanceof PortOneNotFoundError) {
      // Deleted at PortOne already: make our copy agree, then say so.
      if (await getStoredBillingKey(ctx.db, customerUid)) await markBillingKeyDeleted(ctx.db, customerUid);
      throw new BillingKeyNotFoundError(`no billing key for customer_uid ${customerUid} at PortOne`, { cause: error });
    }
    throw error;
  }
}

/** Charges a billing key once. A decline is a real (failed) payment: stored, and answered 422. */
export async function payWithBillingKey(ctx: RequestContext, body: z.output<typeof PayBody>): Promise<Payment> {
  const { custom_data, ...rest } = body;
  const payment = await chargeOnce(
    ctx,
    { operation: 'subscribe.again', merchantUids: [body.merchant_uid] },
    () => ctx.portone.subscribe.again({ ...rest, ...customData(custom_data) }),
    () =>
      findCharge(ctx, {
        merchantUid: body.merchant_uid,
        amount: body.amount,
        currency: body.currency ?? DEFAULT_CURRENCY,
        customerUid: body.customer_uid,
        since: ctx.idempotency.startedAt,
      }),
  );
  await upsertPaymentFromPortOne(ctx.db, payment, { cause: 'charge' });
  if (payment.status === 'failed') {
    ctx.log.info({ impUid: payment.imp_uid, customerUid: body.customer_uid }, 'billing key payment declined');
    throw new PaymentDeclinedError(
      `payment ${payment.imp_uid} was declined: ${payment.fail_reason ?? 'no reason given'}`,
      {
        details: {
          imp_uid: payment.imp_uid,
          merchant_uid: payment.merchant_uid,
          payment_status: payment.status,
          fail_reason: payment.fail_reason ?? null,
        },
      },
    );
  }
  ctx.log.info(
    { impUid: payment.imp_uid, customerUid: body.customer_uid, amount: payment.amount },
    'billing key charged',
  );
  return payment;
}

export async function schedulePayments(
  ctx: RequestContext,
  body: z.output<typeof ScheduleBody>,
): Promise<ScheduleResult[]> {
  const merchantUids = body.schedules.map((s) => s.merchant_uid);
  const request = {
    ...body,
    schedules: body.schedules.map(({ custom_data, ...s }) => ({ ...s, ...customData(custom_data) })),
  };
  const results = await chargeOnce(
    ctx,
    { operation: 'subscribe.schedule', merchantUids },
    () => ctx.portone.subscribe.schedule(request),
    async () => {
      const found: ScheduleResult[] = [];
      for (const merchantUid of merchantUids) {
        try {
          found.push(await ctx.portone.subscribe.getSchedule({ merchant_uid: merchantUid }));
        } catch (error) {
          if (error instanceof PortOneNotFoundError) return undefined;
          throw error;
        }
      }
      return found;
    },
  );
  await upsertSchedules(ctx.db, results, { cause: 'api' });
  ctx.log.info({ customerUid: body.customer_uid, merchantUids }, 'payments scheduled');
  return results;
}

export async function unschedulePayments(
  ctx: ServiceContext,
  customerUid: string,
  body: z.output<typeof UnscheduleBody>,
): Promise<ScheduleResult[]> {
  const merchantUid = body?.merchant_uid;
  const list = merchantUid === undefined ? undefined : Array.isArray(merchantUid) ? merchantUid : [merchantUid];
  const revoked = await ctx.portone.subscribe.unschedule({
    customer_uid: customerUid,
    ...(list ? { merchant_uid: list } : {}),
  });
  await upsertSchedules(ctx.db, revoked, { cause: 'api' });
  if (revoked.length > 0) await markSchedulesRevoked(ctx.db, { merchantUids: revoked.map((s) => s.merchant_uid) });
  ctx.log.info({ customerUid, merchantUids: revoked.map((s) => s.merchant_uid) }, 'schedules revoked');
  return revoked;
}

export async function listSchedules(ctx: ServiceContext, customerUid: string, query: z.output<typeof SchedulesQuery>) {
  const now = unixSeconds(ctx.clock);
  const from = query.from ?? now - SCHEDULE_WINDOW_DAYS * DAY;
  const to = query.to ?? now + SCHEDULE_WINDOW_DAYS * DAY;
  const page = await ctx.portone.subscribe.schedulesByCustomer({
    customer_uid: customerUid,
    from,
    to,
    page: query.page,
    ...(query.status ? { schedule_status: query.status } : {}),
  });
  await upsertSchedules(ctx.db, page.list);
  return {
    customer_uid: customerUid,
    from,
    to,
    total: page.total,
    page: query.page,
    next: page.next,
    items: page.list,
  };
}
