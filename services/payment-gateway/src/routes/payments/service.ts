import { type Payment, PortOneApiError, PortOneNotFoundError } from '@repo/portone-client';
import type { z } from 'zod';
import {
  AlreadyCancelledError,
  AmountMismatchError,
  CancelAmountExceededError,
  CancelChecksumMismatchError,
  CancelInProgressError,
  IdempotentCancelConflictError,
  InvalidAmountError,
  NotCancellableError,
  NothingToVerifyError,
  OutcomeUnknownError,
  PortOneConflictError,
  SandboxPaymentError,
} from '../../errors.ts';
import { chargeOnce, findCharge } from '../../idempotency/charge-once.ts';
import type { MoneyCheckpoint } from '../../idempotency/key.ts';
import { amountIssue, currencyOf, DEFAULT_CURRENCY, fromMinor, minorOf } from '../../money.ts';
import type { RequestContext, ServiceContext } from '../../service-context.ts';
import { type CancelClaim, claimPaymentForCancel, releaseCancelClaim } from '../../store/cancel-claim.repository.ts';
import { fromDbBool, fromDbTime, fromDecimal, fromNullableDbTime, hundredths, toDbJson } from '../../store/codec.ts';
import {
  isPaymentStored,
  listPayments as listStoredPayments,
  markVerification,
  upsertPaymentFromPortOne,
  type VerificationStatus,
} from '../../store/payment.repository.ts';
import type { PaymentRow } from '../../store/payment.table.ts';
import { getPrepared, savePrepared } from '../../store/prepared.repository.ts';
import type { CancelBody, ListPaymentsQuery, PrepareBody, VbankBody, VerifyBody } from './schemas.ts';

const DAY = 86_400;

/** A stored time as UNIX seconds, like PortOne's. */
const unix = (value: string | null) => {
  const date = fromNullableDbTime(value);
  return date ? Math.floor(date.getTime() / 1000) : null;
};

/** The one mapping of a stored payment to the API's shape (snake_case, times as UNIX seconds). */
function toApiPayment(row: PaymentRow) {
  const amount = fromDecimal(row.amount);
  const cancelAmount = fromDecimal(row.cancel_amount);
  return {
    imp_uid: row.imp_uid,
    merchant_uid: row.merchant_uid,
    status: row.status,
    amount,
    cancel_amount: cancelAmount,
    // In hundredths, so no float residue appears.
    cancellable_amount: Math.max(0, hundredths(amount) - hundredths(cancelAmount)) / 100,
    currency: row.currency,
    pay_method: row.pay_method,
    pg_provider: row.pg_provider,
    name: row.name,
    customer_uid: row.customer_uid,
    vbank_num: row.vbank_num,
    vbank_date: unix(row.vbank_date),
    paid_at: unix(row.paid_at),
    failed_at: unix(row.failed_at),
    cancelled_at: unix(row.cancelled_at),
    fail_reason: row.fail_reason,
    verification_status: row.verification_status as VerificationStatus,
    sandbox: fromDbBool(row.sandbox),
    forged: fromDbBool(row.forged),
    created_at: Math.floor(fromDbTime(row.created_at).getTime() / 1000),
    updated_at: Math.floor(fromDbTime(row.updated_at).getTime() / 1000),
  };
}

export async function listPayments(ctx: ServiceContext, query: z.output<typeof ListPaymentsQuery>) {
  const { total, rows } = await listStoredPayments(ctx.db, {
    ...(query.status ? { status: query.status } : {}),
    ...(query.from !== undefined ? { from: new Date(query.from * 1000) } : {}),
    ...(query.to !== undefined ? { to: new Date(query.to * 1000) } : {}),
    page: query.page,
    limit: query.limit,
  });
  return { total, page: query.page, limit: query.limit, items: rows.map(toApiPayment) };
}

/**
 * PortOne is the source of truth: fetch, remember, answer. Test-channel payments are asked for too
 * (PortOne hides them otherwise), so that they can be recognised as such and never pass as real.
 */
export async function fetchPayment(ctx: ServiceContext, impUid: string): Promise<Payment> {
  const payment = await ctx.portone.payments.get({ imp_uid: impUid, include_sandbox: true });
  await keepStored(ctx, payment);
  return payment;
}

/** Read-through: PortOne's answer is stored before it is returned, unless the store already holds it. */
async function keepStored(ctx: ServiceContext, payment: Payment): Promise<void> {
  const raw = toDbJson(payment);
  if (ctx.storedSnapshots.has(payment.imp_uid, raw)) return;
  const { outcome } = await upsertPaymentFromPortOne(ctx.db, payment);
  // A stale answer (older than our copy) left the store as it was: not known to match.
  if (outcome !== 'stale') ctx.storedSnapshots.remember(payment.imp_uid, raw);
}

export async function findPayment(
  ctx: ServiceContext,
  merchantUid: string,
  status?: 'ready' | 'paid' | 'cancelled' | 'failed',
): Promise<Payment> {
  const payment = await ctx.portone.payments.find({
    merchant_uid: merchantUid,
    ...(status ? { payment_status: status } : {}),
  });
  await keepStored(ctx, payment);
  return payment;
}

/**
 * Registers the amount at PortOne (so the payment window refuses another amount) and keeps our copy
 * for verification. Registering the same merchant_uid again with the same amount answers the existing
 * registration; with a different amount it is a conflict (PortOne keeps the first one).
 */
export async function preparePayment(ctx: ServiceContext, body: z.output<typeof PrepareBody>) {
  let prepared: { merchant_uid: string; amount: number; currency: string | null };
  try {
    const created = await ctx.portone.prepare.create({
      merchant_uid: body.merchant_uid,
      amount: body.amount,
      ...(body.currency ? { currency: body.currency } : {}),
    });
    prepared = { merchant_uid: created.merchant_uid, amount: created.amount, currency: created.currency ?? null };
  } catch (error) {
    if (!(error instanceof PortOneApiError)) throw error;
    const existing = await ctx.portone.prepare.get({ merchant_uid: body.merchant_uid }).catch(() => undefined);
    if (!existing) throw error;
    const sameCurrency = (existing.currency ?? null) === (body.currency ?? existing.currency ?? null);
    const currency = existing.currency ?? body.currency ?? DEFAULT_CURRENCY;
    if (minorOf(existing.amount, currency) !== minorOf(body.amount, currency) || !sameCurrency) {
      throw new PortOneConflictError(
        `merchant_uid ${body.merchant_uid} is already prepared with amount ${existing.amount}${existing.currency ? ` ${existing.currency}` : ''}`,
        {
          details: {
            prepared: { amount: existing.amount, currency: existing.currency ?? null },
            requested: { amount: body.amount, currency: body.currency ?? null },
            portone: { operation: error.operation, code: error.code ?? null, message: error.portoneMessage ?? null },
          },
          cause: error,
        },
      );
    }
    prepared = { merchant_uid: existing.merchant_uid, amount: existing.amount, currency: existing.currency ?? null };
  }
  await savePrepared(ctx.db, {
    merchantUid: prepared.merchant_uid,
    amount: prepared.amount,
    currency: prepared.currency ?? body.currency ?? null,
  });
  ctx.log.info({ merchantUid: prepared.merchant_uid, amount: prepared.amount }, 'payment prepared');
  return prepared;
}

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
function requireExact(currency: string, amounts: Record<string, number | undefined>): void {
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
 * Cancels without ever over-refunding, even under concurrent requests, and without holding a
 * transaction or a pool connection while PortOne answers. Cancels of one payment take turns on a claim
 * on its row (claimPaymentForCancel: short autocommit writes before and after the PortOne calls). The
 * holder refreshes the payment from PortOne, computes the balance from that answer, checks the amount
 * against it, sends the cancel with `checksum` = that balance, stores PortOne's answer and releases
 * the claim; the next cancel then sees its result. A holder that died leaves its claim to expire; the
 * next cancel settles from PortOne's balance, and PortOne's checksum refuses any cancel computed from
 * a balance that has since moved, claim or no claim.
 *
 * Nor twice for one Idempotency-Key: the checksum and amount are recorded on the key before PortOne
 * is asked (`checkpoint`). When PortOne's answer is lost (a timeout after it applied the cancel, then
 * a replay refused by checksum), the payment is fetched again: a balance lowered by exactly this
 * amount means the cancel went through, and that is the answer. A retry with the key after a crash or
 * an unknown outcome finds the checkpoint: the balance it predicted → the cancel happened, answered
 * from PortOne's state; the balance it saw → it did not, and it is sent again with the same checksum
 * (which PortOne refuses if it did after all); anything else → 409, nothing sent.
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

/**
 * Issues a virtual account; the due date defaults to VBANK_DUE_DAYS from PortOne's clock (not ours:
 * PortOne checks it against its own, and `vbank_issued_at` comes from there too).
 */
export async function issueVbank(ctx: RequestContext, body: z.output<typeof VbankBody>): Promise<Payment> {
  const vbankDue = body.vbank_due ?? (await ctx.portone.now()) + ctx.config.VBANK_DUE_DAYS * DAY;
  const { custom_data, ...rest } = body;
  const payment = await chargeOnce(
    ctx,
    { operation: 'vbanks.issue', merchantUids: [body.merchant_uid] },
    () =>
      ctx.portone.vbanks.issue({
        ...rest,
        vbank_due: vbankDue,
        ...(custom_data !== undefined
          ? { custom_data: typeof custom_data === 'string' ? custom_data : JSON.stringify(custom_data) }
          : {}),
      }),
    () =>
      findCharge(ctx, {
        merchantUid: body.merchant_uid,
        amount: body.amount,
        currency: DEFAULT_CURRENCY,
        since: ctx.idempotency.startedAt,
      }),
  );
  await upsertPaymentFromPortOne(ctx.db, payment, { cause: 'charge' });
  ctx.log.info({ impUid: payment.imp_uid, merchantUid: payment.merchant_uid }, 'virtual account issued');
  return payment;
}

interface Mismatch {
  field: 'amount' | 'currency' | 'status' | 'merchant_uid';
  expected: string | number;
  actual: string | number;
}

/**
 * Compares what PortOne says was paid with what we expected (the caller's values, else what was
 * prepared for the merchant_uid). A mismatch is a 422 naming both values; a forged amount on a paid
 * payment is cancelled when CANCEL_FORGED_PAYMENTS is on.
 */
export async function verifyPayment(ctx: RequestContext, body: z.output<typeof VerifyBody>, requestedBy: string) {
  const payment = await fetchPayment(ctx, body.imp_uid);
  if (payment.sandbox && !ctx.config.ACCEPT_SANDBOX_PAYMENTS) {
    await markVerification(ctx.db, payment.imp_uid, {
      status: 'sandbox',
      forged: false,
      detail: { reason: 'test-channel payment', status: payment.status, amount: payment.amount },
    });
    ctx.log.warn({ impUid: payment.imp_uid, status: payment.status }, 'verify refused a sandbox payment');
    throw new SandboxPaymentError(
      `payment ${payment.imp_uid} was made on a test channel (sandbox: true) and is not a real payment; a deployment that takes test payments (staging) sets ACCEPT_SANDBOX_PAYMENTS=true`,
      {
        details: {
          imp_uid: payment.imp_uid,
          merchant_uid: payment.merchant_uid,
          sandbox: true,
          status: payment.status,
        },
      },
    );
  }
  // The order the caller says this payment is for; else the order PortOne says it paid.
  const prepared = await getPrepared(ctx.db, body.merchant_uid ?? payment.merchant_uid);
  const expectedAmount = body.amount ?? prepared?.amount;
  if (expectedAmount === undefined) {
    throw new NothingToVerifyError(
      `no expected amount for ${payment.merchant_uid}: pass amount, or prepare the merchant_uid first`,
      { details: { imp_uid: payment.imp_uid, merchant_uid: payment.merchant_uid } },
    );
  }
  const expectedCurrency = body.currency ?? prepared?.currency ?? undefined;
  const expectedStatus = body.status ?? 'paid';
  // Amounts compare in minor units of the currency expected (else the payment's own).
  const currency = expectedCurrency ?? currencyOf(payment);
  if (body.currency === undefined) requireExact(currency, { amount: body.amount });

  const mismatches: Mismatch[] = [];
  if (body.merchant_uid !== undefined && body.merchant_uid !== payment.merchant_uid) {
    mismatches.push({ field: 'merchant_uid', expected: body.merchant_uid, actual: payment.merchant_uid });
  }
  if (minorOf(payment.amount, currency) !== minorOf(expectedAmount, currency)) {
    mismatches.push({ field: 'amount', expected: expectedAmount, actual: payment.amount });
  }
  if (expectedCurrency && payment.currency !== expectedCurrency) {
    mismatches.push({ field: 'currency', expected: expectedCurrency, actual: payment.currency });
  }
  if (payment.status !== expectedStatus) {
    mismatches.push({ field: 'status', expected: expectedStatus, actual: payment.status });
  }

  if (mismatches.length === 0) {
    await markVerification(ctx.db, payment.imp_uid, {
      status: 'verified',
      forged: false,
      detail: { amount: expectedAmount, currency: expectedCurrency ?? null, status: expectedStatus },
    });
    ctx.log.info({ impUid: payment.imp_uid, amount: payment.amount }, 'payment verified');
    return { verified: true as const, payment };
  }

  const forged = payment.status === 'paid' && mismatches.some((m) => m.field === 'amount' || m.field === 'currency');
  const summary = mismatches.map((m) => `${m.field} expected ${m.expected}, actual ${m.actual}`).join('; ');
  await markVerification(ctx.db, payment.imp_uid, { status: 'mismatch', forged, detail: { mismatches } });
  ctx.log.warn({ impUid: payment.imp_uid, mismatches, forged }, 'payment verification failed');

  let cancelled = false;
  let cancelError: string | undefined;
  if (forged && ctx.config.CANCEL_FORGED_PAYMENTS) {
    try {
      await cancelPayment(
        ctx,
        { imp_uid: payment.imp_uid, reason: 'amount forgery detected by verification' },
        requestedBy,
      );
      cancelled = true;
    } catch (error) {
      cancelError = error instanceof Error ? error.message : String(error);
      ctx.log.error({ err: error, impUid: payment.imp_uid }, 'could not cancel forged payment');
    }
  }
  const tail = cancelled
    ? ' The payment was cancelled (CANCEL_FORGED_PAYMENTS).'
    : forged && ctx.config.CANCEL_FORGED_PAYMENTS
      ? ' Cancelling it failed; cancel it manually.'
      : '';
  throw new AmountMismatchError(`payment ${payment.imp_uid} does not match: ${summary}.${tail}`, {
    details: {
      imp_uid: payment.imp_uid,
      merchant_uid: payment.merchant_uid,
      mismatches,
      expected: { amount: expectedAmount, currency: expectedCurrency ?? null, status: expectedStatus },
      actual: { amount: payment.amount, currency: payment.currency, status: payment.status },
      forged,
      cancelled,
      ...(cancelError ? { cancel_error: cancelError } : {}),
    },
  });
}
