import { type Payment, PortOneApiError, PortOneNotFoundError } from '@repo/portone-client';
import type { z } from 'zod';
import {
  AlreadyCancelledError,
  CancelAmountExceededError,
  CancelChecksumMismatchError,
  CancelInProgressError,
  IdempotentCancelConflictError,
  InvalidAmountError,
  NotCancellableError,
  OutcomeUnknownError,
} from '../../errors.ts';
import type { MoneyCheckpoint } from '../../idempotency/key.ts';
import { amountIssue, currencyOf, fromMinor, minorOf } from '../../money.ts';
import type { RequestContext, ServiceContext } from '../../service-context.ts';
import { type CancelClaim, claimPaymentForCancel, releaseCancelClaim } from '../../store/cancel-claim.repository.ts';
import { isPaymentStored, upsertPaymentFromPortOne } from '../../store/payment.repository.ts';
import type { CancelBody } from './schemas.ts';
import { fetchPayment } from './service.ts';

async function resolveImpUid(ctx: ServiceContext, body: z.output<typeof CancelBody>): Promise<string> {
  if (body.imp_uid) return body.imp_uid;
  const merchantUid = body.merchant_uid as string;
  // A merchant_uid may have several attempts; the paid one is the one to refund.
  const payment =
    (await ctx.portone.payments.find({ merchant_uid: merchantUid, payment_status: 'paid' }).catch((e: unknown) => {
      if (e instanceof PortOneNotFoundError) return undefined;
      throw e;
    })) ?? (await ctx.portone.payments.find({ merchant_uid: merchantUid, payment_status: 'cancelled' }));
  return payment.imp_uid;
}

/**
 * What a cancel with an Idempotency-Key records before PortOne is asked: the balance it saw (sent as
 * `checksum`) and the amount. A retry with the same key then knows what "already done" looks like.
 */
interface CancelCheckpoint {
  imp_uid: string;
  checksum: number;
  amount: number;
}

function isCancelCheckpoint(value: unknown): value is CancelCheckpoint {
  const v = value as Partial<CancelCheckpoint> | null;
  return typeof v?.imp_uid === 'string' && typeof v.checksum === 'number' && typeof v.amount === 'number';
}

/** What is left to cancel, in minor units of the payment's currency. */
const balanceOf = (p: Payment) => minorOf(p.amount, currencyOf(p)) - minorOf(p.cancel_amount, currencyOf(p));

/**
 * Amounts whose currency is the payment's, checked once PortOne has said which it is: an inexact one
 * is the same 400 problem a body the schema refused gets, naming the field.
 */
export function requireExact(currency: string, amounts: Record<string, number | undefined>): void {
  const issues = Object.entries(amounts).flatMap(([field, amount]) => {
    const message = amount === undefined ? undefined : amountIssue(amount, currency);
    return message ? [{ field: `body.${field}`, message }] : [];
  });
  if (issues.length > 0) {
    throw new InvalidAmountError(issues.map((i) => `${i.field}: ${i.message}`).join('; '), { details: { issues } });
  }
}

/** Cancels of one payment wait for each other's claim this often at most (a short autocommit UPDATE). */
const CLAIM_POLL_MAX_MS = 200;

/**
 * Takes the payment's cancel claim, waiting while another cancel holds it: at most one claim's
 * lifetime (IDEMPOTENCY_LEASE_SECONDS), after which a dead holder's claim has expired. Waiting holds
 * no connection; a release in this process wakes the next waiter at once (CancelTurns), others are
 * seen by polling. Still held by a live cancel then: 409 CANCEL_IN_PROGRESS.
 */
async function claimForCancel(ctx: ServiceContext, impUid: string): Promise<CancelClaim> {
  const leaseMs = ctx.config.IDEMPOTENCY_LEASE_SECONDS * 1000;
  const deadline = Date.now() + leaseMs + CLAIM_POLL_MAX_MS;
  for (let pause = 5; ; pause = Math.min(pause * 2, CLAIM_POLL_MAX_MS)) {
    const claim = await claimPaymentForCancel(ctx.db, impUid, leaseMs);
    if (claim) return claim;
    if (Date.now() >= deadline) {
      throw new CancelInProgressError(`another cancel of payment ${impUid} is still in progress; retry later`, {
        details: { imp_uid: impUid },
      });
    }
    await ctx.cancelTurns.wait(impUid, pause / 2 + Math.random() * pause);
  }
}

/**
 * Cancels at most once and never beyond the balance, even concurrently: a claim on the payment's row,
 * PortOne's balance as `checksum`, a checkpoint on the Idempotency-Key (the gateway README, "Money safety").
 */
export async function cancelPayment(
  ctx: RequestContext,
  body: z.output<typeof CancelBody>,
  requestedBy: string,
): Promise<Payment> {
  const impUid = await resolveImpUid(ctx, body);
  if (!(await isPaymentStored(ctx.db, impUid))) await fetchPayment(ctx, impUid);
  const claim = await claimForCancel(ctx, impUid);
  try {
    return await cancelClaimed(ctx, impUid, body, requestedBy, ctx.idempotency.checkpoint);
  } finally {
    // Not released (the store is down): the claim expires on its own.
    await releaseCancelClaim(ctx.db, claim).then(
      () => ctx.cancelTurns.released(impUid),
      (err: unknown) => ctx.log.warn({ err, impUid }, 'could not release the cancel claim; it expires on its own'),
    );
  }
}

async function cancelClaimed(
  ctx: ServiceContext,
  impUid: string,
  body: z.output<typeof CancelBody>,
  requestedBy: string,
  checkpoint: MoneyCheckpoint | undefined,
): Promise<Payment> {
  const getFromPortOne = () => ctx.portone.payments.get({ imp_uid: impUid, include_sandbox: true });
  const current = await getFromPortOne();
  // The cancel is in the payment's currency: amounts exact for it, compared in its minor units.
  const currency = currencyOf(current);
  requireExact(currency, { amount: body.amount, tax_free: body.tax_free, vat_amount: body.vat_amount });
  const major = (minor: number) => fromMinor(minor, currency);
  const balance = balanceOf(current);

  const earlier = checkpoint?.previous;
  const previous = isCancelCheckpoint(earlier) && earlier.imp_uid === impUid ? earlier : undefined;
  const seen = previous && {
    checksum: minorOf(previous.checksum, currency),
    amount: minorOf(previous.amount, currency),
  };
  if (previous && seen && balance === seen.checksum - seen.amount) {
    ctx.log.info({ impUid, amount: previous.amount }, 'cancel of an earlier attempt with this key found at PortOne');
    await upsertPaymentFromPortOne(ctx.db, current, { requestedBy, cause: 'cancel' });
    return current;
  }
  await upsertPaymentFromPortOne(ctx.db, current, { cause: 'cancel' });
  if (previous && balance !== seen?.checksum) {
    throw new IdempotentCancelConflictError(
      `payment ${impUid} changed at PortOne since the first attempt with this Idempotency-Key (balance ${previous.checksum} then, ${major(balance)} now); nothing was sent. Look the payment up before cancelling with a new key.`,
      { details: { imp_uid: impUid, balance_then: previous.checksum, balance_now: major(balance) } },
    );
  }

  if (current.status !== 'paid' && current.status !== 'cancelled') {
    throw new NotCancellableError(`payment ${impUid} is ${current.status}; only paid payments can be cancelled`, {
      details: { imp_uid: impUid, payment_status: current.status },
    });
  }
  if (balance <= 0) {
    throw new AlreadyCancelledError(`payment ${impUid} is already fully cancelled`, {
      details: { imp_uid: impUid, amount: current.amount, cancel_amount: current.cancel_amount },
    });
  }
  // An explicit amount is sent as asked; only an omitted one means "the whole balance".
  const amount = body.amount === undefined ? balance : minorOf(body.amount, currency);
  if (amount > balance) {
    throw new CancelAmountExceededError(
      `cancel amount ${major(amount)} exceeds the cancellable balance ${major(balance)} of payment ${impUid}`,
      { details: { imp_uid: impUid, requested: major(amount), cancellable: major(balance) } },
    );
  }

  // Durable before PortOne is asked.
  await checkpoint?.save({
    imp_uid: impUid,
    checksum: major(balance),
    amount: major(amount),
  } satisfies CancelCheckpoint);

  let after: Payment;
  try {
    after = await ctx.portone.payments.cancel({
      imp_uid: impUid,
      amount: major(amount),
      checksum: major(balance),
      ...(body.reason !== undefined ? { reason: body.reason } : {}),
      ...(body.tax_free !== undefined ? { tax_free: body.tax_free } : {}),
      ...(body.vat_amount !== undefined ? { vat_amount: body.vat_amount } : {}),
      ...(body.refund_holder !== undefined ? { refund_holder: body.refund_holder } : {}),
      ...(body.refund_bank !== undefined ? { refund_bank: body.refund_bank } : {}),
      ...(body.refund_account !== undefined ? { refund_account: body.refund_account } : {}),
      ...(body.refund_tel !== undefined ? { refund_tel: body.refund_tel } : {}),
    });
  } catch (error) {
    after = await settleLostCancel(ctx, { impUid, currency, balance, amount }, error, getFromPortOne);
  }
  // PortOne's answer, with its cancel_history, is what we store; the new entry is attributed to the caller.
  await upsertPaymentFromPortOne(ctx.db, after, { requestedBy, cause: 'cancel' });
  ctx.log.info(
    { impUid, amount: major(amount), balanceBefore: major(balance), balanceAfter: major(balanceOf(after)) },
    'payment cancelled',
  );
  return after;
}

/**
 * A cancel call failed. A refusal on the first attempt is just that. Otherwise (no answer, or a
 * replay after a lost answer that PortOne refused by checksum) the cancel may have gone through:
 * PortOne is asked again, and a balance lowered by exactly `amount` is the answer. Still the old
 * balance: the cancel did not happen, the error stands. Neither, or no answer: the outcome is unknown
 * (a 502 kept on the Idempotency-Key, whose checkpoint lets a retry check again instead of refunding
 * again).
 */
async function settleLostCancel(
  ctx: ServiceContext,
  sent: { impUid: string; currency: string; balance: number; amount: number },
  error: unknown,
  getFromPortOne: () => Promise<Payment>,
): Promise<Payment> {
  const { impUid, balance, amount } = sent;
  const major = (minor: number) => fromMinor(minor, sent.currency);
  const checksumRefused = error instanceof PortOneApiError && /checksum/i.test(error.portoneMessage ?? '');
  const refused = error instanceof PortOneApiError && error.attempts <= 1;
  if (!refused) {
    let now: Payment | undefined;
    try {
      now = await getFromPortOne();
    } catch (lookupError) {
      ctx.log.warn({ err: lookupError, impUid }, 'could not look the payment up after a failed cancel');
    }
    if (now && balanceOf(now) === balance - amount) {
      ctx.log.warn({ impUid, amount: major(amount) }, 'cancel went through though its answer was lost');
      return now;
    }
    if (!now || balanceOf(now) !== balance) {
      throw new OutcomeUnknownError(
        `the outcome of the cancel of ${major(amount)} on payment ${impUid} is unknown: PortOne did not answer it. Retry with the same Idempotency-Key (it checks PortOne's balance before sending anything) or look the payment up.`,
        { details: { imp_uid: impUid, amount: major(amount), balance_before: major(balance) }, cause: error },
      );
    }
  }
  if (checksumRefused) {
    const portoneError = error as PortOneApiError;
    throw new CancelChecksumMismatchError(`PortOne refused the cancel: ${portoneError.portoneMessage}`, {
      details: {
        imp_uid: impUid,
        checksum: major(balance),
        portone: { code: portoneError.code ?? null, message: portoneError.portoneMessage ?? null },
      },
      cause: error,
    });
  }
  throw error;
}
