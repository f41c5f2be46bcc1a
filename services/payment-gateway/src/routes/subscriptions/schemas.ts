import { z } from 'zod';
import {
  Amount,
  Currency,
  CustomerUid,
  exactAmounts,
  MerchantUid,
  NonNegativeAmount,
  PageMeta,
  PagingQuery,
  UnixSeconds,
  UnixSecondsQuery,
} from '../../schemas/common.ts';

export const CustomerUidParams = z.object({ customer_uid: CustomerUid });

export const ListBillingKeysQuery = z.object({
  ...PagingQuery,
  include_deleted: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
});

/** Billing-key metadata as our store keeps it (never card data beyond PortOne's masked number). */
export const StoredBillingKeySchema = z
  .object({
    customer_uid: z.string(),
    pg_provider: z.string().nullable(),
    pg_id: z.string().nullable(),
    card_name: z.string().nullable(),
    card_code: z.string().nullable(),
    card_number: z.string().nullable(),
    card_type: z.number().nullable(),
    customer_name: z.string().nullable(),
    customer_email: z.string().nullable(),
    inserted: z.number().nullable(),
    updated: z.number().nullable(),
    deleted_at: z.number().nullable(),
  })
  .meta({ id: 'StoredBillingKey' });
export const BillingKeyListSchema = z.object({
  ...PageMeta,
  next: z.number().int().meta({ description: 'next page number, 0 when this is the last page' }),
  items: z.array(StoredBillingKeySchema),
});

/** A billing key as PortOne reports it (`CustomerAnnotation`). */
export const CustomerSchema = z
  .object({
    customer_uid: z.string(),
    pg_provider: z.string().nullish(),
    card_name: z.string().nullish(),
    card_number: z.string().nullish().meta({ description: 'masked by PortOne' }),
    inserted: z.number().nullish(),
    updated: z.number().nullish(),
  })
  .loose()
  .meta({ id: 'BillingKey' });

const CardFields = {
  card_number: z
    .string()
    .regex(/^\d{4}-?\d{4}-?\d{4}-?\d{2,7}$/, 'a card number such as 1234-5678-9012-3456')
    .meta({ description: 'sent to PortOne only; never stored or logged' }),
  expiry: z.string().regex(/^\d{4}-\d{2}$/, 'YYYY-MM'),
  birth: z
    .string()
    .regex(/^(\d{6}|\d{10})$/, 'YYMMDD, or a 10-digit business number')
    .optional(),
  pwd_2digit: z
    .string()
    .regex(/^\d{2}$/, 'the first 2 digits of the card password')
    .optional(),
  cvc: z
    .string()
    .regex(/^\d{3,4}$/, '3 or 4 digits')
    .optional(),
};

const CustomerFields = {
  customer_name: z.string().max(20).optional(),
  customer_tel: z.string().max(20).optional(),
  customer_email: z.string().max(200).optional(),
  customer_addr: z.string().max(200).optional(),
  customer_postcode: z.string().max(8).optional(),
  customer_id: z.string().max(100).optional(),
};

const Channel = {
  pg: z.string().min(1).max(100).optional(),
  channel_key: z.string().min(1).max(100).optional(),
};

export const IssueBillingKeyBody = z.strictObject({
  customer_uid: CustomerUid,
  ...CardFields,
  ...CustomerFields,
  ...Channel,
});

const BuyerFields = {
  buyer_name: z.string().max(16).optional(),
  buyer_email: z.string().max(64).optional(),
  buyer_tel: z.string().max(16).optional(),
  buyer_addr: z.string().max(128).optional(),
  buyer_postcode: z.string().max(8).optional(),
};

const CustomData = z.union([z.string(), z.record(z.string(), z.unknown())]);

export const PayBody = z
  .strictObject({
    customer_uid: CustomerUid,
    merchant_uid: MerchantUid,
    amount: Amount,
    name: z.string().trim().min(1).max(40),
    currency: Currency.optional(),
    tax_free: NonNegativeAmount.optional(),
    vat_amount: NonNegativeAmount.optional(),
    card_quota: z.number().int().min(0).max(36).optional(),
    custom_data: CustomData.optional(),
    notice_url: z.url().optional(),
    channel_key: z.string().min(1).max(100).optional(),
    ...BuyerFields,
  })
  .superRefine(exactAmounts(['amount', 'tax_free', 'vat_amount']));

export const ScheduleItem = z
  .strictObject({
    merchant_uid: MerchantUid,
    schedule_at: UnixSeconds,
    amount: Amount,
    name: z.string().trim().min(1).max(40).optional(),
    currency: Currency.optional(),
    tax_free: NonNegativeAmount.optional(),
    vat_amount: NonNegativeAmount.optional(),
    custom_data: CustomData.optional(),
    notice_url: z.url().optional(),
    ...BuyerFields,
  })
  .superRefine(exactAmounts(['amount', 'tax_free', 'vat_amount']));

export const ScheduleBody = z
  .strictObject({
    customer_uid: CustomerUid,
    schedules: z.array(ScheduleItem).min(1).max(100),
    card_number: CardFields.card_number.optional(),
    expiry: CardFields.expiry.optional(),
    birth: CardFields.birth,
    pwd_2digit: CardFields.pwd_2digit,
    ...Channel,
  })
  .refine((b) => new Set(b.schedules.map((s) => s.merchant_uid)).size === b.schedules.length, {
    message: 'merchant_uid must be unique within schedules',
    path: ['schedules'],
  })
  .refine((b) => (b.card_number === undefined) === (b.expiry === undefined), {
    message: 'card_number and expiry go together',
    path: ['expiry'],
  });

export const UnscheduleBody = z
  .strictObject({
    merchant_uid: z
      .union([MerchantUid, z.array(MerchantUid).min(1).max(100)])
      .optional()
      .meta({ description: 'schedules to revoke; omitted = every pending schedule of the customer' }),
  })
  // No body at all arrives as null.
  .nullish();

export const SchedulesQuery = z
  .object({
    from: UnixSecondsQuery.optional().meta({ description: 'schedule_at >= from; default now - 90 days' }),
    to: UnixSecondsQuery.optional().meta({ description: 'schedule_at < to; default now + 90 days' }),
    status: z.enum(['scheduled', 'executed', 'revoked']).optional(),
    page: z.coerce.number().int().min(1).max(100_000).default(1),
  })
  .refine((q) => q.from === undefined || q.to === undefined || q.from < q.to, {
    message: 'from must be before to',
    path: ['from'],
  });

/** `ScheduleResultAnnotation`. */
export const ScheduleResultSchema = z
  .object({
    customer_uid: z.string(),
    merchant_uid: z.string(),
    imp_uid: z.string().nullish(),
    schedule_at: z.number(),
    amount: z.number(),
    schedule_status: z.string().nullish(),
    payment_status: z.string().nullish(),
  })
  .loose()
  .meta({ id: 'ScheduleResult' });

export const ScheduleListSchema = z.object({
  customer_uid: z.string(),
  from: z.number().int(),
  to: z.number().int(),
  total: z.number().int(),
  page: z.number().int(),
  next: z.number().int(),
  items: z.array(ScheduleResultSchema),
});
