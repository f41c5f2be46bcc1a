import type { BigIntIdColumn, BoolColumn, DateTimeColumn, NullableDateTimeColumn } from './codec.ts';

/** `notification_endpoints`: where internal services want payment changes POSTed. */
export interface NotificationEndpointTable {
  id: string;
  url: string;
  description: string | null;
  /** JSON list of StoredSecret, newest first. Never logged, never returned after creation/rotation. */
  secrets: string;
  enabled: BoolColumn;
  /** `api` (managed through the API) or `config` (NOTIFY_ENDPOINTS; read-only through the API). */
  source: string;
  created_at: DateTimeColumn;
  updated_at: DateTimeColumn;
}

/** `notification_events`: the outbox, one row per change, written in the change's transaction. */
export interface NotificationEventTable {
  id: BigIntIdColumn;
  /** The Standard Webhooks `webhook-id`: the same on every attempt and replay. */
  message_id: string;
  type: string;
  /** What ordering is kept per: `payment:<imp_uid>` or `schedule:<merchant_uid>`. */
  subject: string;
  cause: string;
  /** The JSON body sent: `{ type, timestamp, data }`. */
  payload: string;
  created_at: DateTimeColumn;
}

/** `notification_deliveries`: one event to one endpoint; also the delivery log operators read. */
export interface NotificationDeliveryTable {
  id: BigIntIdColumn;
  event_id: number | string;
  endpoint_id: string;
  subject: string;
  status: string;
  attempts: number;
  next_attempt_at: DateTimeColumn;
  claimed_until: NullableDateTimeColumn;
  /** Identifies the claim holding the delivery until claimed_until; NULL when unclaimed. */
  claim_token: string | null;
  last_attempt_at: NullableDateTimeColumn;
  last_status_code: number | null;
  last_error: string | null;
  delivered_at: NullableDateTimeColumn;
  created_at: DateTimeColumn;
}
