import { type Payment, PortOneNotFoundError, PortOneOutcomeUnknownError } from '@repo/portone-client';
import { OutcomeUnknownError } from '../errors.ts';
import { currencyOf, minorOf } from '../money.ts';
import type { RequestContext, ServiceContext } from '../service-context.ts';
import { impUidsStoredBefore } from '../store/payment.repository.ts';

/**
 * Runs a call that moves money. When PortOne's answer is lost (`PortOneOutcomeUnknownError`) — or a
 * previous attempt with the same Idempotency-Key lost it (`lookup-only`) — the charge is never sent
 * again: `lookup` asks PortOne what happened (by merchant_uid). Found: that is the answer. Not found:
 * 502 "outcome unknown", and the idempotency key keeps that answer so the next retry looks up again.
 * A key taken over from a dead request (`lookup-first`) looks up before charging; if that lookup
 * fails, the outcome of the dead request is unknown and the answer is the same 502.
 */
export async function chargeOnce<T>(
  ctx: RequestContext,
  what: { operation: string; merchantUids: string[] },
  charge: () => Promise<T>,
  lookup: () => Promise<T | undefined>,
): Promise<T> {
  const { mode } = ctx.idempotency;
  if (mode === 'lookup-first') {
    ctx.log.warn(
      { operation: what.operation, merchantUids: what.merchantUids },
      'idempotency key taken over from a request that died: looking the charge up before sending it',
    );
    let earlier: T | undefined;
    try {
      earlier = await lookup();
    } catch (error) {
      ctx.log.warn({ err: error, operation: what.operation }, 'lookup before a taken-over charge failed');
      throw outcomeUnknown(what);
    }
    if (earlier !== undefined) {
      ctx.log.info({ operation: what.operation, merchantUids: what.merchantUids }, 'charge of the dead request found');
      return earlier;
    }
  }
  if (mode !== 'lookup-only') {
    try {
      return await charge();
    } catch (error) {
      if (!(error instanceof PortOneOutcomeUnknownError)) throw error;
      ctx.log.warn(
        { operation: what.operation, merchantUids: what.merchantUids, attempts: error.attempts },
        'charge outcome unknown; looking it up by merchant_uid',
      );
    }
  } else {
    ctx.log.info(
      { operation: what.operation, merchantUids: what.merchantUids },
      'retry of a charge with unknown outcome: lookup only',
    );
  }
  let found: T | undefined;
  try {
    found = await lookup();
  } catch (error) {
    ctx.log.warn({ err: error, operation: what.operation }, 'lookup after unknown outcome failed');
    found = undefined;
  }
  if (found !== undefined) {
    ctx.log.info({ operation: what.operation, merchantUids: what.merchantUids }, 'charge found after unknown outcome');
    return found;
  }
  throw outcomeUnknown(what);
}

function outcomeUnknown(what: { operation: string; merchantUids: string[] }): Error {
  return new OutcomeUnknownError(
    `the outcome of ${what.operation} for merchant_uid ${what.merchantUids.join(', ')} is unknown: PortOne did not answer and has no record of it yet. Retry with the same Idempotency-Key (it only looks the payment up) or GET /api/v1/payments/find/{merchant_uid}; do not charge again with a new merchant_uid until it is resolved.`,
    { details: { merchant_uids: what.merchantUids } },
  );
}

/** What a lost charge was: the payment it would have made. */
export interface ChargeWanted {
  merchantUid: string;
  amount: number;
  currency: string;
  /** A billing-key charge: the payment carries this customer_uid. */
  customerUid?: string;
  /** When the attempt began: a payment the gateway had stored before then is an older attempt. */
  since: Date;
}

/**
 * The payment a lost charge made, if PortOne has it: the newest attempt on the merchant_uid that this
 * charge could have made — same amount and currency (and customer_uid for a billing-key charge), and
 * not one the gateway had already stored before the attempt began. PortOne lets a merchant_uid whose
 * attempts failed be charged again, so an older failed attempt is never taken for this one's answer.
 */
export async function findCharge(ctx: ServiceContext, wanted: ChargeWanted): Promise<Payment | undefined> {
  let attempts: Payment[];
  try {
    attempts = (await ctx.portone.payments.findAll({ merchant_uid: wanted.merchantUid, limit: 100 })).list;
  } catch (error) {
    if (error instanceof PortOneNotFoundError) return undefined;
    throw error;
  }
  const older = new Set(await impUidsStoredBefore(ctx.db, wanted.merchantUid, wanted.since));
  const amount = minorOf(wanted.amount, wanted.currency);
  // Newest first (PortOne's default order): a retry of a lost charge made the latest attempt.
  return attempts.find(
    (p) =>
      !older.has(p.imp_uid) &&
      currencyOf(p) === wanted.currency &&
      minorOf(p.amount, wanted.currency) === amount &&
      (wanted.customerUid === undefined || p.customer_uid === wanted.customerUid),
  );
}
