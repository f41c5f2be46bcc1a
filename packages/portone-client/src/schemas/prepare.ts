import { z } from 'zod';
import { nullish } from './common.ts';

/**
 * `PaymentPrepareAnnotation`. The spec's `required: [total, previous, next]` is a known slip (those belong
 * to paged lists); merchant_uid and amount are what PortOne always returns.
 */
export const PreparedPaymentSchema = z.looseObject({
  merchant_uid: z.string(),
  amount: z.number(),
  currency: nullish(z.string()),
});

/** An amount registered in advance for a merchant_uid. */
export type PreparedPayment = z.infer<typeof PreparedPaymentSchema>;

/** `POST /payments/prepare` and `PUT /payments/prepare`. */
export interface PrepareRequest {
  merchant_uid: string;
  amount: number;
  /** Expected currency; when omitted the currency is not verified. */
  currency?: string;
}

/** `GET /payments/prepare/{merchant_uid}`. */
export interface GetPreparedRequest {
  merchant_uid: string;
}
