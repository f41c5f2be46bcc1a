import { z } from 'zod';

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

/** Amounts are JSON numbers; KRW is integral, other currencies may carry decimals. */
export const Amount = z.number().positive().max(1e12).meta({ description: 'amount', example: 10000 });
export const NonNegativeAmount = z.number().min(0).max(1e12);
export const Currency = z
  .string()
  .regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as KRW')
  .meta({ description: 'ISO 4217 currency', example: 'KRW' });

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
