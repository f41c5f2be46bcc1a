import type { Kysely, Transaction } from 'kysely';
import type { BillingKeyTable } from './billing-key.repository.ts';
import type { IdempotencyKeyTable } from './idempotency.repository.ts';
import type { JobLeaseTable } from './job-lease.repository.ts';
import type {
  NotificationDeliveryTable,
  NotificationEndpointTable,
  NotificationEventTable,
} from './notification.repository.ts';
import type { CancelTable, PaymentTable } from './payment.repository.ts';
import type { PortOneCallTable } from './portone-call.repository.ts';
import type { PreparedPaymentTable } from './prepared.repository.ts';
import type {
  PaymentRecheckTable,
  ReconciliationChangeTable,
  ReconciliationRunTable,
} from './reconciliation.repository.ts';
import type { ScheduleTable } from './schedule.repository.ts';
import type { WebhookDeliveryTable } from './webhook.repository.ts';

/** The gateway's whole schema; each table's row type sits beside the repository that owns it. */
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
