import type { Selectable } from 'kysely';
import type { BigIntIdColumn, DateTimeColumn } from './codec.ts';

/** `portone_calls`: one audit row per HTTP attempt to PortOne. No bodies, no tokens, no secrets. */
export interface PortOneCallTable {
  id: BigIntIdColumn;
  at: DateTimeColumn;
  operation: string;
  method: string;
  /** The route pattern (`/payments/{imp_uid}`), never the concrete path with ids or query. */
  path_pattern: string;
  http_status: number | null;
  portone_code: number | null;
  duration_ms: number;
  attempt: number;
  imp_key_masked: string | null;
  /** ok | api_error | http_error | timeout | network_error | … */
  outcome: string;
  error_class: string | null;
  request_id: string | null;
}

export type PortOneCallRow = Selectable<PortOneCallTable>;
