import { type Payment, PortOneNotFoundError } from '@repo/portone-client';
import type { FastifyBaseLogger } from 'fastify';
import { isPortOneDown } from '../errors.ts';
import { currencyOf, minorOf } from '../money.ts';
import type { ServiceContext } from '../service-context.ts';
import type { Db } from '../store/database.ts';
import { readStoredPayment, upsertPaymentFromPortOne } from '../store/payment.repository.ts';
import type { PaymentRow } from '../store/payment.table.ts';
import { getPrepared, type PreparedPaymentRecord } from '../store/prepared.repository.ts';
import {
  type ConfirmedClaims,
  type InsertedWebhookDelivery,
  insertWebhookDeliveries,
  insertWebhookDelivery,
  markWebhookProcessed,
  type WebhookState,
} from '../store/webhook.repository.ts';
import { groupCommit } from './group-commit.ts';

export interface IncomingDelivery {
  impUid: string;
  merchantUid: string | null;
  status: string;
  cancellationId: string | null;
  rawBody: string;
  contentType: string | null;
  sourceIp: string;
  /** `webhookDedupeKey` of the fields above, when the caller has computed it already. */
  dedupeKey?: string | null;
}

/** The part of a stored delivery processing needs. */
export interface DeliveryRef {
  id: number;
  impUid: string;
  status: string;
  /**
   * The merchant_uid the body named. Never trusted: it only lets the prepared amount be read while
   * PortOne answers; PortOne's own merchant_uid decides which prepared payment is compared.
   */
  merchantUid?: string | null;
}

/** A read started early that may go unused: its failure surfaces where it is awaited, or nowhere. */
function early<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/**
 * What processing a delivery reads, all asked for at once rather than one after the other: PortOne's
 * payment (test-channel payments too, so that their webhooks are recognised and refused as such), the
 * row we hold for it, and the prepared amount by the merchant_uid the body named (used only if PortOne
 * names the same one). Reads only: nothing acts on them before processing starts, so the route may
 * start them while the delivery is still being stored.
 */
export interface DeliveryReads {
  payment: Promise<Payment>;
  held: Promise<PaymentRow | undefined>;
  prepared?: Promise<PreparedPaymentRecord | undefined>;
}

export function startReads(
  ctx: ServiceContext,
  delivery: Pick<DeliveryRef, 'impUid' | 'merchantUid'>,
  signal?: AbortSignal,
): DeliveryReads {
  return {
    payment: early(ctx.portone.payments.get({ imp_uid: delivery.impUid, include_sandbox: true }, { signal })),
    held: early(readStoredPayment(ctx.db, delivery.impUid)),
    prepared: delivery.merchantUid ? early(getPrepared(ctx.db, delivery.merchantUid)) : undefined,
  };
}

/**
 * Whether PortOne's current state confirms the status a webhook claims. A webhook may be stale —
 * `paid` arriving after the payment was cancelled is genuine history, not forgery — so a claim is
 * confirmed by the status itself or by the timestamps of a state the payment has passed through.
 */
export function confirms(payment: Payment, claimed: string): boolean {
  switch (claimed) {
    case 'paid':
      return payment.status === 'paid' || (payment.status === 'cancelled' && (payment.paid_at ?? 0) > 0);
    case 'ready':
      return (
        payment.status === 'ready' ||
        (payment.pay_method === 'vbank' && (payment.vbank_issued_at ?? 0) > 0 && payment.status !== 'failed')
      );
    case 'cancelled':
      return payment.status === 'cancelled' || payment.cancel_amount > 0;
    case 'failed':
      return payment.status === 'failed' || (payment.failed_at ?? 0) > 0;
    default:
      return false;
  }
}

/**
 * Two commits under way at most, each taking up to 100 deliveries: a delivery arriving while one
 * commit runs can go out at once in the other instead of waiting for it, and a burst still costs a
 * few large statements rather than one per delivery (less for the gateway and the database to run).
 * 100 bodies of at most 64 KiB stay well under max_allowed_packet (16 MiB or more).
 */
const GROUP = { maxBatch: 100, concurrency: 2 };

/**
 * The webhook route's store: `store(delivery)` resolves once the delivery is committed (stored
 * before acknowledged), as `insertWebhookDelivery` would, with the same answer; deliveries arriving
 * while earlier ones commit are stored together in one statement and one commit (group-commit.ts).
 * A group the database refuses (a claim already taken, two copies of one event in it) is stored
 * delivery by delivery instead, each with its own answer or error.
 */
export function deliveryStore(
  db: Db,
  confirmed: ConfirmedClaims,
  log: Pick<FastifyBaseLogger, 'debug'>,
): (delivery: IncomingDelivery) => Promise<InsertedWebhookDelivery> {
  return groupCommit({
    ...GROUP,
    many: (deliveries) => insertWebhookDeliveries(db, deliveries, confirmed),
    one: (delivery) => insertWebhookDelivery(db, delivery, confirmed),
    onGroupError: (err, size) => log.debug({ err, size }, 'webhook deliveries stored one by one'),
  });
}

/**
 * Re-fetches the payment from PortOne; only PortOne's answer changes our state (forward-only upsert).
 * A status or amount PortOne does not confirm is forgery: nothing changes, the delivery is `forged`.
 * A test-channel payment changes nothing either (`sandbox`) unless ACCEPT_SANDBOX_PAYMENTS is on.
 * If PortOne cannot be reached the delivery stays `received` for the sweeper to retry. `reads` are
 * the caller's when it started them already (`startReads`, e.g. while the delivery was being stored).
 */
export async function processDelivery(
  ctx: ServiceContext,
  delivery: DeliveryRef,
  signal?: AbortSignal,
  reads: DeliveryReads = startReads(ctx, delivery, signal),
): Promise<WebhookState> {
  let payment: Payment;
  try {
    payment = await reads.payment;
  } catch (error) {
    if (error instanceof PortOneNotFoundError) {
      await markWebhookProcessed(ctx.db, delivery.id, 'forged', {
        outcome: { reason: `PortOne has no payment ${delivery.impUid}` },
      });
      ctx.log.warn({ webhookId: delivery.id, impUid: delivery.impUid }, 'forged webhook: unknown imp_uid');
      return 'forged';
    }
    if (isPortOneDown(error) || signal?.aborted) {
      ctx.log.warn(
        { webhookId: delivery.id, impUid: delivery.impUid, err: error },
        'PortOne unreachable; webhook left for the sweeper',
      );
      return 'received';
    }
    throw error;
  }

  if (payment.sandbox && !ctx.config.ACCEPT_SANDBOX_PAYMENTS) {
    await markWebhookProcessed(ctx.db, delivery.id, 'sandbox', {
      outcome: {
        reason: 'a test-channel (sandbox) payment; nothing stored (ACCEPT_SANDBOX_PAYMENTS is off)',
        claimed: delivery.status,
        status: payment.status,
      },
    });
    ctx.log.warn({ webhookId: delivery.id, impUid: delivery.impUid }, 'webhook for a sandbox payment: nothing stored');
    return 'sandbox';
  }
  // Our row as read while PortOne answered (PortOne's answer is for the payment asked for).
  const held = payment.imp_uid === delivery.impUid ? reads.held : undefined;
  if (!['ready', 'paid', 'cancelled', 'failed'].includes(delivery.status)) {
    await upsertPaymentFromPortOne(ctx.db, payment, { cause: 'webhook', held });
    await markWebhookProcessed(ctx.db, delivery.id, 'ignored', {
      outcome: { reason: `unknown webhook status "${delivery.status}"`, status: payment.status },
    });
    return 'ignored';
  }
  if (!confirms(payment, delivery.status)) {
    const detail = `webhook says ${delivery.status}, PortOne says ${payment.status}`;
    await markWebhookProcessed(ctx.db, delivery.id, 'forged', {
      outcome: { reason: detail, claimed: delivery.status, status: payment.status },
    });
    ctx.log.warn({ webhookId: delivery.id, impUid: delivery.impUid, detail }, 'forged webhook: status not confirmed');
    return 'forged';
  }
  const prepared = await (reads.prepared && delivery.merchantUid === payment.merchant_uid
    ? reads.prepared
    : getPrepared(ctx.db, payment.merchant_uid));
  const currency = currencyOf(payment);
  if (prepared && minorOf(prepared.amount, currency) !== minorOf(payment.amount, currency)) {
    const detail = `amount ${payment.amount} differs from the prepared ${prepared.amount} for ${payment.merchant_uid}`;
    await markWebhookProcessed(ctx.db, delivery.id, 'forged', {
      outcome: { reason: detail, expected: prepared.amount, actual: payment.amount },
    });
    ctx.log.warn({ webhookId: delivery.id, impUid: delivery.impUid, detail }, 'forged payment amount');
    return 'forged';
  }
  const stored = await upsertPaymentFromPortOne(ctx.db, payment, { requestedBy: 'webhook', cause: 'webhook', held });
  await markWebhookProcessed(ctx.db, delivery.id, 'processed', {
    outcome: { status: payment.status, store: stored.outcome },
  });
  ctx.log.info(
    { webhookId: delivery.id, impUid: delivery.impUid, claimed: delivery.status, status: payment.status },
    'webhook processed',
  );
  return 'processed';
}

/** Processing broke on our side (not PortOne's): `failed` counts the attempt and lets the sweeper retry. */
export async function markFailed(ctx: ServiceContext, id: number, error: unknown): Promise<void> {
  const message = error instanceof Error ? error.message : String(error);
  await markWebhookProcessed(ctx.db, id, 'failed', { error: message.slice(0, 500) }).catch((err: unknown) =>
    ctx.log.error({ err, webhookId: id }, 'could not mark webhook delivery failed'),
  );
}
