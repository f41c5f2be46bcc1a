import { z } from 'zod';
import {
  Amount,
  Currency,
  exactAmounts,
  ImpUid,
  MerchantUid,
  NonNegativeAmount,
  PageMeta,
  PagingQuery,
  PaymentStatus,
  PortOnePaymentSchema,
  UnixSeconds,
  UnixSecondsQuery,
} from '../../schemas/common.ts';

export const ImpUidParams = z.object({ imp_uid: ImpUid });
export const MerchantUidParams = z.object({ merchant_uid: MerchantUid });
export const FindQuery = z.object({ status: PaymentStatus.optional() });

export const ListPaymentsQuery = z
  .object({
    status: PaymentStatus.optional(),
    from: UnixSecondsQuery.optional().meta({ description: 'first stored at or after (UNIX seconds)' }),
    to: UnixSecondsQuery.optional().meta({ description: 'first stored at or before (UNIX seconds)' }),
    ...PagingQuery,
  })
  .refine((q) => q.from === undefined || q.to === undefined || q.from <= q.to, {
    message: 'from must not be after to',
    path: ['from'],
  });

/** A payment as our store keeps it: PortOne's last accepted answer plus our verification verdict. */
export const StoredPaymentSchema = z
  .object({
    imp_uid: z.string(),
    merchant_uid: z.string(),
    status: z.string(),
    amount: z.number(),
    cancel_amount: z.number(),
    cancellable_amount: z.number(),
    currency: z.string(),
    pay_method: z.string().nullable(),
    pg_provider: z.string().nullable(),
    name: z.string().nullable(),
    customer_uid: z.string().nullable(),
    vbank_num: z.string().nullable(),
    vbank_date: z.number().nullable(),
    paid_at: z.number().nullable(),
    failed_at: z.number().nullable(),
    cancelled_at: z.number().nullable(),
    fail_reason: z.string().nullable(),
    verification_status: z
      .string()
      .meta({ description: 'unverified, verified, mismatch, or sandbox (a test-channel payment verify refused)' }),
    sandbox: z.boolean().meta({ description: 'made on a PortOne test channel: not a real payment' }),
    forged: z.boolean(),
    created_at: z.number().meta({ description: 'when the gateway first stored it (UNIX seconds)' }),
    updated_at: z.number(),
  })
  .meta({ id: 'StoredPayment' });

export const PaymentListSchema = z.object({ ...PageMeta, items: z.array(StoredPaymentSchema) });

export const PrepareBody = z
  .strictObject({
    merchant_uid: MerchantUid,
    amount: Amount,
    currency: Currency.optional(),
  })
  .superRefine(exactAmounts(['amount']));
export const PreparedSchema = z
  .object({ merchant_uid: z.string(), amount: z.number(), currency: z.string().nullable() })
  .meta({ id: 'PreparedPayment' });

export const CancelBody = z
  .strictObject({
    imp_uid: ImpUid.optional(),
    merchant_uid: MerchantUid.optional(),
    amount: Amount.optional().meta({
      description: 'omitted: the whole remaining balance; exact for the payment’s currency (KRW whole, USD cents)',
    }),
    tax_free: NonNegativeAmount.optional(),
    vat_amount: NonNegativeAmount.optional(),
    reason: z.string().trim().min(1).max(256).optional(),
    refund_holder: z.string().min(1).max(16).optional(),
    refund_bank: z.string().min(1).max(4).optional(),
    refund_account: z.string().min(1).max(16).optional(),
    refund_tel: z.string().min(1).max(16).optional(),
  })
  .refine((b) => b.imp_uid !== undefined || b.merchant_uid !== undefined, {
    message: 'imp_uid or merchant_uid is required',
    path: ['imp_uid'],
  });

export const VbankBody = z
  .strictObject({
    merchant_uid: MerchantUid,
    amount: Amount,
    vbank_code: z
      .string()
      .regex(/^(\d{2,3}|BK\d{2})$/, 'a bank code: 2 or 3 digits, or BK + 2 digits')
      .meta({ example: '88' }),
    vbank_due: UnixSeconds.optional().meta({ description: 'deposit deadline; default now + VBANK_DUE_DAYS' }),
    vbank_holder: z.string().min(1).max(40).optional(),
    channel_key: z.string().min(1).max(100).optional(),
    pg: z.string().min(1).max(100).optional(),
    name: z.string().min(1).max(40).optional(),
    buyer_name: z.string().max(16).optional(),
    buyer_email: z.string().max(64).optional(),
    buyer_tel: z.string().max(16).optional(),
    buyer_addr: z.string().max(128).optional(),
    buyer_postcode: z.string().max(8).optional(),
    custom_data: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
    notice_url: z.url().optional(),
  })
  .superRefine(exactAmounts(['amount']));

export const VerifyBody = z
  .strictObject({
    imp_uid: ImpUid,
    merchant_uid: MerchantUid.optional(),
    amount: Amount.optional().meta({ description: 'exact for `currency`, else for the payment’s currency' }),
    currency: Currency.optional(),
    status: PaymentStatus.optional().meta({ description: 'expected status; default paid' }),
  })
  // Without a currency the amount is checked against the payment's, once PortOne has said it.
  .superRefine(exactAmounts(['amount'], {}));

export const VerifiedSchema = z
  .object({ verified: z.literal(true), payment: PortOnePaymentSchema })
  .meta({ id: 'VerifiedPayment' });

export { PortOnePaymentSchema };
