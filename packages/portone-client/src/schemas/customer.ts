import { z } from 'zod';
import { nullish } from './common.ts';

/** `CustomerAnnotation`: a billing key registered under a merchant-chosen customer_uid. */
export const CustomerSchema = z.looseObject({
  customer_uid: z.string(),
  pg_provider: z.string(),
  pg_id: z.string(),
  sandbox: z.boolean(),
  customer_id: nullish(z.string()),
  card_name: z.string(),
  card_code: nullish(z.string()),
  card_issuer_code: nullish(z.string()),
  card_issuer_name: nullish(z.string()),
  card_publisher_code: nullish(z.string()),
  card_publisher_name: nullish(z.string()),
  card_number: nullish(z.string()),
  card_type: nullish(z.number()),
  customer_name: nullish(z.string()),
  customer_tel: nullish(z.string()),
  customer_email: nullish(z.string()),
  customer_addr: nullish(z.string()),
  customer_postcode: nullish(z.string()),
  inserted: z.number(),
  updated: z.number(),
});

export const CustomerListSchema = z.array(CustomerSchema);

/** A billing key (`CustomerAnnotation`). */
export type Customer = z.infer<typeof CustomerSchema>;

/** Card data sent to issue a billing key or pay by key-in. Never logged, never put in errors. */
export interface CardInput {
  /** `dddd-dddd-dddd-dddd`. */
  card_number: string;
  /** `YYYY-MM`. */
  expiry: string;
  /** `YYMMDD`, or a 10-digit business number for corporate cards. */
  birth?: string;
  /** First two digits of the card password. */
  pwd_2digit?: string;
  cvc?: string;
}

/** `POST /subscribe/customers/{customer_uid}`: issue (or replace) a billing key. */
export interface BillingKeyIssueRequest extends CardInput {
  customer_uid: string;
  /** Channel to issue on (required by the current spec; older integrations send `pg`). */
  channel_key?: string;
  pg?: string;
  customer_id?: string;
  customer_name?: string;
  customer_tel?: string;
  customer_email?: string;
  customer_addr?: string;
  customer_postcode?: string;
}

/** `GET /subscribe/customers/{customer_uid}`. */
export interface GetBillingKeyRequest {
  customer_uid: string;
}

/** `GET /subscribe/customers?customer_uid[]=`. */
export interface GetBillingKeysRequest {
  customer_uid: readonly string[];
}

/** `DELETE /subscribe/customers/{customer_uid}`. */
export interface BillingKeyDeleteRequest {
  customer_uid: string;
  reason?: string;
  /** Naver Pay only (`extra[requester]`). */
  extra?: { requester?: 'customer' | 'admin' };
}

/** `GET /subscribe/customers/{customer_uid}/payments`. */
export interface BillingKeyPaymentsRequest {
  customer_uid: string;
  page?: number;
}
