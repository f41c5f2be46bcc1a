import type { Insertable } from 'kysely';
import { fromBigIntId, fromDbTime, toDbTime } from './codec.ts';
import type { Db } from './database.ts';
import type { PortOneCallRow, PortOneCallTable } from './portone-call.table.ts';
import { deleteIds, rowsInsert } from './sql.ts';

/**
 * One attempt as the PortOne client reports it (field names follow its `PortOneCallEvent`, so the
 * client's event can be passed as is).
 */
export interface PortOneCallInput {
  at?: Date;
  operation: string;
  method: string;
  /** Route pattern such as `/payments/{imp_uid}`. */
  path: string;
  /** HTTP status; undefined/null when no response arrived. */
  status?: number | null;
  /** PortOne's envelope code. */
  code?: number | null;
  durationMs: number;
  attempt: number;
  /** Masked here before storing, whatever the caller passes. */
  impKey?: string | null;
  outcome: string;
  /** Name of the error class the attempt mapped to. */
  error?: string | null;
  requestId?: string | null;
}

export interface PortOneCallRecord {
  id: number;
  at: Date;
  operation: string;
  method: string;
  pathPattern: string;
  httpStatus: number | null;
  portoneCode: number | null;
  durationMs: number;
  attempt: number;
  impKeyMasked: string | null;
  outcome: string;
  errorClass: string | null;
  requestId: string | null;
}

export function toPortOneCallRecord(row: PortOneCallRow): PortOneCallRecord {
  return {
    id: fromBigIntId(row.id),
    at: fromDbTime(row.at),
    operation: row.operation,
    method: row.method,
    pathPattern: row.path_pattern,
    httpStatus: row.http_status,
    portoneCode: row.portone_code,
    durationMs: row.duration_ms,
    attempt: row.attempt,
    impKeyMasked: row.imp_key_masked,
    outcome: row.outcome,
    errorClass: row.error_class,
    requestId: row.request_id,
  };
}

/** First 4 and last 4 characters of an imp_key; shorter keys are fully masked. Idempotent. */
export function maskImpKey(impKey: string): string {
  if (impKey.length < 12) return '*'.repeat(Math.min(impKey.length, 8));
  return `${impKey.slice(0, 4)}****${impKey.slice(-4)}`;
}

function callRow(call: PortOneCallInput): Required<Omit<Insertable<PortOneCallTable>, 'id'>> {
  return {
    at: toDbTime(call.at ?? new Date()),
    operation: call.operation,
    method: call.method,
    path_pattern: call.path,
    http_status: call.status ?? null,
    portone_code: call.code ?? null,
    duration_ms: Math.max(0, Math.round(call.durationMs)),
    attempt: call.attempt,
    imp_key_masked: call.impKey ? maskImpKey(call.impKey) : null,
    outcome: call.outcome,
    error_class: call.error ?? null,
    request_id: call.requestId ?? null,
  };
}

export async function insertPortOneCall(db: Db, call: PortOneCallInput): Promise<number> {
  const result = await db.insertInto('portone_calls').values(callRow(call)).executeTakeFirstOrThrow();
  return fromBigIntId(result.insertId ?? 0n);
}

const insertCalls = rowsInsert<ReturnType<typeof callRow>>('portone_calls', [
  'at',
  'operation',
  'method',
  'path_pattern',
  'http_status',
  'portone_code',
  'duration_ms',
  'attempt',
  'imp_key_masked',
  'outcome',
  'error_class',
  'request_id',
]);

/**
 * Several calls in one multi-row INSERT (one commit for the lot), the audit write of every lookup.
 * The statement is written out (rowsInsert): through the query builder a 100-row insert cost ~7 µs
 * per row, ten times the rest of the write (bench/).
 */
export async function insertPortOneCalls(db: Db, calls: readonly PortOneCallInput[]): Promise<void> {
  if (calls.length === 0) return;
  await db.executeQuery(insertCalls(calls.map(callRow)));
}

/** Most recent calls first (for operators and tests). */
export async function listPortOneCalls(db: Db, query: { limit?: number } = {}): Promise<PortOneCallRecord[]> {
  const rows = await db
    .selectFrom('portone_calls')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(query.limit ?? 100)
    .execute();
  return rows.map(toPortOneCallRecord);
}

/** Deletes up to `limit` of the oldest calls made before `before`, as deleteWebhookDeliveriesBefore. */
export async function deletePortOneCallsBefore(db: Db, before: Date, limit: number): Promise<number> {
  const rows = await db
    .selectFrom('portone_calls')
    .select('id')
    .where('at', '<', toDbTime(before))
    .orderBy('at', 'asc')
    .limit(limit)
    .execute();
  return deleteIds(
    db,
    'portone_calls',
    rows.map((r) => r.id),
  );
}
