import type { Selectable } from 'kysely';
import type { DateTimeColumn, NullableDateTimeColumn } from './codec.ts';

/** `idempotency_keys`: one row per (caller scope, Idempotency-Key), kept for its TTL (24 h default). */
export interface IdempotencyKeyTable {
  scope: string;
  idem_key: string;
  method: string;
  path: string;
  /** sha256 hex of the request body, computed by the caller. */
  body_hash: string;
  /** in_flight | completed */
  state: string;
  response_status: number | null;
  /** JSON text of the response body. */
  response_body: string | null;
  created_at: DateTimeColumn;
  completed_at: NullableDateTimeColumn;
  expires_at: DateTimeColumn;
  /**
   * While `in_flight`: until when the request holding the key is presumed alive. Past it, a retry
   * may take the key over (the holder crashed). NULL on rows from before the column existed.
   */
  locked_until: NullableDateTimeColumn;
  /**
   * JSON text: what the holder committed to before moving money (saveCheckpoint), e.g. a cancel's
   * checksum and amount. Read by a retry that cannot know whether that money moved.
   */
  checkpoint: string | null;
}

export type IdempotencyKeyRow = Selectable<IdempotencyKeyTable>;
