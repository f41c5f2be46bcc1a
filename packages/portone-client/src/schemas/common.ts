import { z } from 'zod';

/**
 * Spec fields outside an annotation's `required` list may be absent or `null` (PortOne's own clients
 * treat them that way), so they are `nullish`.
 */
export const nullish = <T extends z.ZodType>(schema: T) => schema.nullish();

/** The V1 response envelope (`ResponseAnnotation`). `response` is validated per operation. */
export const EnvelopeSchema = z.looseObject({
  code: z.number(),
  message: z.string().nullish(),
  response: z.unknown(),
});

/** A page of a list (`PagedPaymentAnnotation` and the schedule lists): `previous`/`next` are 0 at the ends. */
export interface Paged<T> {
  total: number;
  previous: number;
  next: number;
  list: T[];
}

/** Builds the schema of a paged list of `item`. */
export function pagedSchema<T extends z.ZodType>(item: T) {
  return z.looseObject({
    total: z.number(),
    previous: z.number(),
    next: z.number(),
    list: z
      .array(item)
      .nullish()
      .transform((list) => list ?? []),
  });
}

/** Result of a multi-lookup (`GET /payments`, `GET /subscribe/customers`). */
export interface MultiResult<T> {
  items: T[];
  /** True when PortOne answered 207 (some ids were not found) or 404 (none were). */
  partial: boolean;
}
