import type {
  BigIntIdColumn,
  DateTimeColumn,
  DecimalColumn,
  NullableDateTimeColumn,
  NullableDecimalColumn,
} from './codec.ts';

export interface ReconciliationRunTable {
  id: BigIntIdColumn;
  holder: string;
  /** running | succeeded | failed */
  status: string;
  started_at: DateTimeColumn;
  finished_at: NullableDateTimeColumn;
  window_from: DateTimeColumn;
  window_to: DateTimeColumn;
  rechecked: number;
  swept: number;
  changed: number;
  discovered: number;
  errors: number;
  error: string | null;
}

export interface ReconciliationChangeTable {
  id: BigIntIdColumn;
  run_id: number | string;
  imp_uid: string;
  merchant_uid: string;
  from_status: string | null;
  to_status: string;
  from_cancel_amount: NullableDecimalColumn;
  to_cancel_amount: DecimalColumn;
  /** recheck (a non-final payment re-fetched) | sweep (found in PortOne's list) */
  reason: string;
  at: DateTimeColumn;
}

export interface PaymentRecheckTable {
  imp_uid: string;
  attempts: number;
  next_check_at: DateTimeColumn;
  last_checked_at: DateTimeColumn;
}
