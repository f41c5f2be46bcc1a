import type { z } from 'zod';
import { AmountMismatchError, NothingToVerifyError, SandboxPaymentError } from '../../errors.ts';
import { currencyOf, minorOf } from '../../money.ts';
import type { RequestContext } from '../../service-context.ts';
import { markVerification } from '../../store/payment.repository.ts';
import { getPrepared } from '../../store/prepared.repository.ts';
import { cancelPayment, requireExact } from './cancel.service.ts';
import type { VerifyBody } from './schemas.ts';
import { fetchPayment } from './service.ts';

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
