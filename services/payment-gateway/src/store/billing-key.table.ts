import type { Selectable } from 'kysely';
import type { DateTimeColumn, NullableDateTimeColumn } from './codec.ts';

/**
 * `billing_keys`: what PortOne tells us about a customer_uid (notes §9). Never card secrets: no full
 * card number (the masked one is re-masked on the way in), no expiry, birth date, PIN digits or CVC.
 */
export interface BillingKeyTable {
  customer_uid: string;
  pg_provider: string | null;
  pg_id: string | null;
  card_name: string | null;
  card_code: string | null;
  card_number: string | null;
  /** 0 credit, 1 check/debit, NULL unknown. */
  card_type: number | null;
  customer_name: string | null;
  customer_email: string | null;
  portone_inserted_at: NullableDateTimeColumn;
  portone_updated_at: NullableDateTimeColumn;
  created_at: DateTimeColumn;
  updated_at: DateTimeColumn;
  deleted_at: NullableDateTimeColumn;
}

export type BillingKeyRow = Selectable<BillingKeyTable>;
