import { z } from 'zod';
import { nullish, type Paged, pagedSchema } from './common.ts';
import type { CardInput } from './customer.ts';

/** Schedule status; open to values PortOne may add. */
export type ScheduleStatus = 'scheduled' | 'executed' | 'revoked' | (string & {});

/**
 * `ScheduleResultAnnotation`. The spec lists no required fields; the identifiers, time, amount and
 * status are always present in PortOne's answers and are required here.
 */
export const ScheduleResultSchema = z.looseObject({
  customer_uid: z.string(),
  merchant_uid: z.string(),
  imp_uid: nullish(z.string()),
  pg_provider: nullish(z.string()),
  pg_id: nullish(z.string()),
  customer_id: nullish(z.string()),
  schedule_at: z.number(),
  executed_at: nullish(z.number()),
  revoked_at: nullish(z.number()),
  amount: z.number(),
  currency: nullish(z.string()),
  name: nullish(z.string()),
  buyer_name: nullish(z.string()),
  buyer_email: nullish(z.string()),
  buyer_tel: nullish(z.string()),
  buyer_addr: nullish(z.string()),
  buyer_postcode: nullish(z.string()),
  custom_data: nullish(z.string()),
  schedule_status: z.string() as z.ZodType<ScheduleStatus>,
  /** Real `null` until executed, then paid / failed / cancelled. */
  payment_status: nullish(z.string()),
  fail_reason: nullish(z.string()),
  promotion_id: nullish(z.string()),
});

export const ScheduleResultListSchema = z.array(ScheduleResultSchema);

/**
 * Schedule lookups: the spec says `ScheduleResult[]`, PortOne's official clients read a paged object.
 * Both are accepted; a bare array becomes a single page.
 */
export const PagedScheduleResultSchema = z.union([
  pagedSchema(ScheduleResultSchema),
  ScheduleResultListSchema.transform(
    (list): Paged<ScheduleResult> => ({ total: list.length, previous: 0, next: 0, list }),
  ),
]);

/** A scheduled payment (`ScheduleResultAnnotation`). */
export type ScheduleResult = z.infer<typeof ScheduleResultSchema>;

/** Fields of a payment made with a billing key, shared by `again` and each schedule entry. */
interface ChargeFields {
  merchant_uid: string;
  amount: number;
  currency?: string;
  name?: string;
  tax_free?: number;
  vat_amount?: number;
  buyer_name?: string;
  buyer_email?: string;
  buyer_tel?: string;
  buyer_addr?: string;
  buyer_postcode?: string;
  card_quota?: number;
  interest_free_by_merchant?: boolean;
  use_card_point?: boolean;
  custom_data?: string;
  /** Webhook URL for this payment. */
  notice_url?: string;
  browser_ip?: string;
  product_type?: 'real' | 'digital';
  product_count?: number;
  bypass?: string;
  promotion_id?: string;
}

/** `POST /subscribe/payments/again`: pay with a stored billing key. Check `status` of the result. */
export interface AgainRequest extends ChargeFields {
  customer_uid: string;
  /** Required by the spec; older integrations omit it. */
  name?: string;
  cash_receipt_type?: 'person' | 'company' | 'anonymous';
  extra?: { naverUseCfm?: string };
  /** Picks a channel of a super billing key. */
  channel_key?: string;
}

/** `POST /subscribe/payments/onetime`: key-in payment, optionally storing the card under customer_uid. */
export interface OnetimeRequest extends ChargeFields, CardInput {
  customer_uid?: string;
  pg?: string;
  channelGroupId?: string;
  secure_3d_charge_id?: string;
  secure_3d_token?: string;
}

/** One entry of `POST /subscribe/payments/schedule` (`ScheduleAnnotation`). */
export interface ScheduleEntry extends ChargeFields {
  /** When to charge, UNIX seconds. */
  schedule_at: number;
  cash_receipt_type?: 'person' | 'company' | 'anonymous';
  extra?: { naverUseCfm?: string };
}

/** `POST /subscribe/payments/schedule`. Card fields are needed only when customer_uid has no key yet. */
export interface ScheduleRequest extends Partial<CardInput> {
  customer_uid: string;
  customer_id?: string;
  /** Test-charge amount, cancelled immediately; 0 = no test. */
  checking_amount?: number;
  pg?: string;
  channel_key?: string;
  schedules: readonly ScheduleEntry[];
}

/** `POST /subscribe/payments/unschedule`: without merchant_uid every pending schedule of the customer. */
export type UnscheduleRequest =
  | { customer_uid: string; merchant_uid?: readonly string[] }
  | { customer_uid?: string; merchant_uid: readonly string[] };

/** `GET /subscribe/payments/schedule/{merchant_uid}`. */
export interface GetScheduleRequest {
  merchant_uid: string;
}

/**
 * `GET /subscribe/payments/schedule/customers/{customer_uid}`. Sent as `from`, `to` and
 * `schedule-status` (hyphen), the spelling of the spec and the official Node/PHP clients.
 */
export interface SchedulesByCustomerRequest {
  customer_uid: string;
  /** UNIX seconds, inclusive, on schedule_at. */
  from: number;
  /** UNIX seconds, exclusive. */
  to: number;
  /** Sent as the `schedule-status` query parameter. */
  schedule_status?: 'scheduled' | 'executed' | 'revoked';
  page?: number;
}

/** `GET /subscribe/payments/schedule`. */
export interface ListSchedulesRequest {
  /** UNIX seconds, inclusive, on schedule_at. */
  schedule_from: number;
  /** UNIX seconds, exclusive. */
  schedule_to: number;
  schedule_status?: 'scheduled' | 'executed' | 'revoked';
  page?: number;
  limit?: number;
  /** `scheduled` = oldest first; default newest first. */
  sorting?: string;
}
