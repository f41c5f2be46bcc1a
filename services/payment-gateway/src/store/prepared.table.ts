import type { Selectable } from 'kysely';
import type { DateTimeColumn, DecimalColumn } from './codec.ts';

/** `prepared_payments`: the amount registered with PortOne for a merchant_uid (notes §7). */
export interface PreparedPaymentTable {
  merchant_uid: string;
  amount: DecimalColumn;
  /** NULL: PortOne does not check the currency. */
  currency: string | null;
  created_at: DateTimeColumn;
  updated_at: DateTimeColumn;
}

export type PreparedPaymentRow = Selectable<PreparedPaymentTable>;
