import { type Payment, PortOneNotFoundError, PortOneOutcomeUnknownError } from '@repo/portone-client';
import { OutcomeUnknownError } from './errors.ts';
import type { ServiceContext } from './service-context.ts';

/**
 * Runs a call that moves money. When PortOne's answer is lost (`PortOneOutcomeUnknownError`) — or a
 * previous attempt with the same Idempotency-Key lost it (`resolveOnly`) — the charge is never sent
 * again: `lookup` asks PortOne what happened (by merchant_uid). Found: that is the answer. Not found:
 * 502 "outcome unknown", and the idempotency key keeps that answer so the next retry looks up again.
 */
export async function chargeOnce<T>(
  ctx: ServiceContext,
  what: { operation: string; merchantUids: string[]; resolveOnly: boolean },
  charge: () => Promise<T>,
  lookup: () => Promise<T | undefined>,
): Promise<T> {
  if (!what.resolveOnly) {
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
  throw new OutcomeUnknownError(
    `the outcome of ${what.operation} for merchant_uid ${what.merchantUids.join(', ')} is unknown: PortOne did not answer and has no record of it yet. Retry with the same Idempotency-Key (it only looks the payment up) or GET /api/v1/payments/find/{merchant_uid}; do not charge again with a new merchant_uid until it is resolved.`,
    { details: { merchant_uids: what.merchantUids } },
  );
}

/** The newest payment PortOne has for a merchant_uid, or undefined. */
export async function findByMerchantUid(ctx: ServiceContext, merchantUid: string): Promise<Payment | undefined> {
  try {
    return await ctx.portone.payments.find({ merchant_uid: merchantUid });
  } catch (error) {
    if (error instanceof PortOneNotFoundError) return undefined;
    throw error;
  }
}
