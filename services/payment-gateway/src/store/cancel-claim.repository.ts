import { toDbTime } from './codec.ts';
import type { Db } from './database.ts';

/** A cancel's hold on its payment; pass it back to release it. */
export interface CancelClaim {
  impUid: string;
  /** The claim's expiry, which also identifies it (a claim taken over after it expired has another). */
  until: Date;
}

/**
 * Claims a payment for one cancel, in one short autocommit UPDATE: it succeeds only when nobody holds
 * the payment or the holder's claim has expired (it died: the claim outlasts any live cancel). Cancels
 * of one payment so take turns without a transaction or a connection held while PortOne answers.
 * Undefined when someone else holds it (or the payment is not stored).
 */
export async function claimPaymentForCancel(
  db: Db,
  impUid: string,
  leaseMs: number,
  now: Date = new Date(),
): Promise<CancelClaim | undefined> {
  const until = new Date(now.getTime() + leaseMs);
  const result = await db
    .updateTable('payments')
    .set({ cancel_claimed_until: toDbTime(until) })
    .where('imp_uid', '=', impUid)
    .where((eb) => eb.or([eb('cancel_claimed_until', 'is', null), eb('cancel_claimed_until', '<=', toDbTime(now))]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0 ? { impUid, until } : undefined;
}

/** Lets the payment go, unless the claim expired and was taken over meanwhile (then it is not ours). */
export async function releaseCancelClaim(db: Db, claim: CancelClaim): Promise<boolean> {
  const result = await db
    .updateTable('payments')
    .set({ cancel_claimed_until: null })
    .where('imp_uid', '=', claim.impUid)
    .where('cancel_claimed_until', '=', toDbTime(claim.until))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
