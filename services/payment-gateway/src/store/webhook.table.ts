import type { Selectable } from 'kysely';
import type { BigIntIdColumn, DateTimeColumn, NullableDateTimeColumn } from './codec.ts';

/** `webhook_deliveries`: every PortOne webhook as received, stored before it is acted on (§13). */
export interface WebhookDeliveryTable {
  id: BigIntIdColumn;
  received_at: DateTimeColumn;
  source_ip: string | null;
  content_type: string | null;
  /** The body exactly as received (it carries no secrets: ids and a status). */
  raw_body: string;
  imp_uid: string | null;
  merchant_uid: string | null;
  status: string | null;
  cancellation_id: string | null;
  dedupe_key: string | null;
  /** = dedupe_key while this delivery is the live one for its key (unique); NULL otherwise. */
  dedupe_claim: string | null;
  duplicate_of: number | string | null;
  state: string;
  attempts: number;
  processed_at: NullableDateTimeColumn;
  error: string | null;
  outcome: string | null;
}

export type WebhookDeliveryRow = Selectable<WebhookDeliveryTable>;
