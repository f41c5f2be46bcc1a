import type { Selectable } from 'kysely';
import type { DateTimeColumn, DecimalColumn, NullableDateTimeColumn } from './codec.ts';

/** `payment_schedules`: PortOne's ScheduleResult per merchant_uid (notes §11). */
export interface ScheduleTable {
  merchant_uid: string;
  customer_uid: string;
  schedule_at: DateTimeColumn;
  amount: DecimalColumn;
  currency: string;
  name: string | null;
  /** scheduled | executed | revoked */
  schedule_status: string;
  /** NULL before execution, then paid | failed | cancelled. */
  payment_status: string | null;
  imp_uid: string | null;
  executed_at: NullableDateTimeColumn;
  revoked_at: NullableDateTimeColumn;
  fail_reason: string | null;
  created_at: DateTimeColumn;
  updated_at: DateTimeColumn;
}

export type ScheduleRow = Selectable<ScheduleTable>;
