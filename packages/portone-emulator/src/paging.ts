/**
 * Paged lists `{ total, previous, next, list }` (notes §5.6) and the payment sort orders
 * (`-started` default, `started`, `-paid`, `paid`, `-updated`, `updated`; `-` = newest first).
 */
import { z } from 'zod';
import { badRequest, MESSAGES } from './errors.ts';
import { f } from './params.ts';
import type { Paged } from './resources.ts';
import type { PaymentRecord } from './state.ts';

export const MAX_LIMIT = 1000;

export const pagingSchema = z.object({
  page: f.optInt().pipe(z.number().int().min(1).optional()),
  limit: f.optInt().pipe(z.number().int().min(1).max(MAX_LIMIT).optional()),
});

/** One page of `items`; a page past the last one (when there is anything) is a 400. */
export function paginate<T>(items: readonly T[], page = 1, limit = 20): Paged<T> {
  const total = items.length;
  const lastPage = Math.max(1, Math.ceil(total / limit));
  if (page > lastPage && total > 0) throw badRequest(MESSAGES.pageOutOfRange);
  return {
    total,
    previous: page > 1 ? Math.min(page - 1, lastPage) : 0,
    next: page < lastPage ? page + 1 : 0,
    list: items.slice((page - 1) * limit, page * limit),
  };
}

export const SORTINGS = ['-started', 'started', '-paid', 'paid', '-updated', 'updated'] as const;
export type Sorting = (typeof SORTINGS)[number];
export const sortingSchema = z.preprocess((v) => (v === '' ? undefined : v), z.enum(SORTINGS).optional());

/** Sorts payments; ties (same emulated second) fall back to creation order in the same direction. */
export function sortPayments(records: PaymentRecord[], sorting: Sorting = '-started'): PaymentRecord[] {
  const descending = sorting.startsWith('-');
  const field = sorting.replace('-', '');
  const key = (r: PaymentRecord) =>
    field === 'paid' ? r.data.paid_at : field === 'updated' ? r.updated : r.data.started_at;
  const sign = descending ? -1 : 1;
  return [...records].sort((a, b) => sign * (key(a) - key(b) || a.seq - b.seq));
}
