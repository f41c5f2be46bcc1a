import { z } from 'zod';
import { amountIssue, currencyIssue, DEFAULT_CURRENCY } from '../money.ts';

/** Shared primitives only; each route folder owns its request and response schemas. */

export const ImpUid = z
  .string()
  .trim()
  .min(1)
  .max(32)
  .meta({ description: 'PortOne payment id', example: 'imp_123456789012' });
export const MerchantUid = z
  .string()
  .trim()
  .min(1)
  .max(40)
  .meta({ description: 'merchant order id', example: 'order_20240101_001' });
export const CustomerUid = z
  .string()
  .trim()
  .min(1)
  .max(80)
  .meta({ description: 'billing key alias', example: 'customer_001' });

/**
 * Amounts are JSON numbers in major units. Whether one is exact depends on its currency (money.ts):
 * a body that carries its currency checks its amounts with `exactAmounts`; an amount whose currency
 * is the payment's (cancel, verify without a currency) is checked once PortOne has said which it is.
 */
export const Amount = z.number().positive().max(1e12).meta({ description: 'amount', example: 10000 });
export const NonNegativeAmount = z.number().min(0).max(1e12);
export const Currency = z
  .string()
  .regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as KRW')
  .superRefine((code, ctx) => {
    const issue = currencyIssue(code);
    if (issue) ctx.addIssue({ code: 'custom', message: issue, input: code });
  })
  .meta({ description: 'ISO 4217 currency (default KRW)', example: 'KRW' });

/**
 * A refinement for an object whose amount fields share its `currency` (PortOne's default KRW when
 * `defaultCurrency` applies and none is given): each must be exact for it, else an issue names the
 * field. Without a currency and without a default, nothing is checked here.
 */
export function exactAmounts<T extends object>(
  fields: readonly (keyof T & string)[],
  options: { defaultCurrency?: string } = { defaultCurrency: DEFAULT_CURRENCY },
) {
  return (value: T, ctx: z.RefinementCtx) => {
    const named = (value as { currency?: unknown }).currency;
    const currency = typeof named === 'string' ? named : options.defaultCurrency;
    if (currency === undefined || currencyIssue(currency)) return;
    for (const field of fields) {
      const amount = value[field];
      if (typeof amount !== 'number') continue;
      const issue = amountIssue(amount, currency);
      if (issue) ctx.addIssue({ code: 'custom', path: [field], message: issue, input: amount });
    }
  };
}

export const UnixSeconds = z.number().int().min(0).max(4_102_444_800).meta({ description: 'UNIX seconds' });
/** UNIX seconds arriving in a query string. */
export const UnixSecondsQuery = z.coerce.number().int().min(0).max(4_102_444_800);

export const PaymentStatus = z.enum(['ready', 'paid', 'cancelled', 'failed']);

export const PagingQuery = {
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  limit: z.coerce.number().int().min(1).max(100).default(20),
};

export const PageMeta = { total: z.number().int(), page: z.number().int(), limit: z.number().int() };

export const IdempotencyHeaders = z
  .object({
    'idempotency-key': z
      .string()
      .min(1)
      .max(255)
      .optional()
      .meta({ description: 'Replays the stored answer when the same key comes back with the same body (24 h)' }),
  })
  .loose();

/** A PortOne payment as PortOne returns it (snake_case); PortOne may add fields at any time. */
export const PortOnePaymentSchema = z
  .object({
    imp_uid: z.string(),
    merchant_uid: z.string(),
    amount: z.number(),
    cancel_amount: z.number(),
    currency: z.string(),
    status: z.string(),
    pay_method: z.string().nullish(),
    paid_at: z.number().nullish(),
    cancel_history: z.array(z.object({}).loose()).nullish(),
  })
  .loose()
  .meta({ id: 'PortOnePayment', description: 'payment as PortOne reports it' });
