import type { Kysely, Transaction } from 'kysely';
import type { BillingKeyTable } from './billing-key.table.ts';
import type { IdempotencyKeyTable } from './idempotency.table.ts';
import type { JobLeaseTable } from './job-lease.table.ts';
import type {
  NotificationDeliveryTable,
  NotificationEndpointTable,
  NotificationEventTable,
} from './notification.table.ts';
import type { CancelTable, PaymentTable } from './payment.table.ts';
import type { PortOneCallTable } from './portone-call.table.ts';
import type { PreparedPaymentTable } from './prepared.table.ts';
import type { PaymentRecheckTable, ReconciliationChangeTable, ReconciliationRunTable } from './reconciliation.table.ts';
import type { ScheduleTable } from './schedule.table.ts';
import type { WebhookDeliveryTable } from './webhook.table.ts';

/** The gateway's whole schema; each table's row type is in its feature's *.table.ts. */
export interface Database {
  payments: PaymentTable;
  payment_cancels: CancelTable;
  prepared_payments: PreparedPaymentTable;
  billing_keys: BillingKeyTable;
  payment_schedules: ScheduleTable;
  webhook_deliveries: WebhookDeliveryTable;
  idempotency_keys: IdempotencyKeyTable;
  portone_calls: PortOneCallTable;
  job_leases: JobLeaseTable;
  reconciliation_runs: ReconciliationRunTable;
  reconciliation_changes: ReconciliationChangeTable;
  payment_rechecks: PaymentRecheckTable;
  notification_endpoints: NotificationEndpointTable;
  notification_events: NotificationEventTable;
  notification_deliveries: NotificationDeliveryTable;
}

/** Repositories take either the root handle or a transaction (a Transaction is a Kysely). */
export type Db = Kysely<Database>;
export type Trx = Transaction<Database>;
