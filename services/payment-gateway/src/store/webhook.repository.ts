import { hash } from 'node:crypto';
import type { Insertable } from 'kysely';
import { fromBigIntId, fromDbJson, fromDbTime, fromNullableDbTime, toDbJson, toDbTime } from './codec.ts';
import type { Db } from './database.ts';
import { deleteIds, isUniqueViolation, multiRowIds, rowsInsert } from './sql.ts';
import type { WebhookDeliveryRow, WebhookDeliveryTable } from './webhook.table.ts';

/** `sandbox`: a test-channel payment, not stored (ACCEPT_SANDBOX_PAYMENTS off). */
export type WebhookState = 'received' | 'processed' | 'duplicate' | 'forged' | 'failed' | 'ignored' | 'sandbox';

export interface WebhookDeliveryRecord {
  id: number;
  receivedAt: Date;
  sourceIp: string | null;
  contentType: string | null;
  rawBody: string;
  impUid: string | null;
  merchantUid: string | null;
  status: string | null;
  cancellationId: string | null;
  dedupeKey: string | null;
  duplicateOf: number | null;
  state: WebhookState;
  attempts: number;
  processedAt: Date | null;
  error: string | null;
  outcome: unknown;
}

export function toWebhookDeliveryRecord(row: WebhookDeliveryRow): WebhookDeliveryRecord {
  return {
    id: fromBigIntId(row.id),
    receivedAt: fromDbTime(row.received_at),
    sourceIp: row.source_ip,
    contentType: row.content_type,
    rawBody: row.raw_body,
    impUid: row.imp_uid,
    merchantUid: row.merchant_uid,
    status: row.status,
    cancellationId: row.cancellation_id,
    dedupeKey: row.dedupe_key,
    duplicateOf: row.duplicate_of == null ? null : fromBigIntId(row.duplicate_of),
    state: row.state as WebhookState,
    attempts: row.attempts,
    processedAt: fromNullableDbTime(row.processed_at),
    error: row.error,
    outcome: fromDbJson(row.outcome),
  };
}

/**
 * What makes two webhooks "the same event": sha256 of `imp_uid|status|cancellation_id`. PortOne
 * re-sends an event when our answer was lost; each distinct status of a payment, and each partial
 * cancel (its own cancellation_id), is a new event. merchant_uid is left out because imp_uid fixes it.
 * A body without imp_uid or status has no key and is never a duplicate.
 */
export function webhookDedupeKey(fields: {
  impUid?: string | null;
  status?: string | null;
  cancellationId?: string | null;
}): string | null {
  if (!fields.impUid || !fields.status) return null;
  return hash('sha256', `${fields.impUid}|${fields.status}|${fields.cancellationId ?? ''}`, 'hex');
}

export interface WebhookDeliveryInput {
  receivedAt?: Date;
  sourceIp?: string | null;
  contentType?: string | null;
  rawBody: string;
  impUid?: string | null;
  merchantUid?: string | null;
  status?: string | null;
  cancellationId?: string | null;
  /** `webhookDedupeKey` of these fields, when the caller has computed it already. */
  dedupeKey?: string | null;
}

export interface InsertedWebhookDelivery {
  id: number;
  /** An earlier delivery of the same event was confirmed by PortOne and processed. */
  duplicate: boolean;
  /** That earlier delivery, when duplicate. */
  duplicateOf: number | null;
  /** The dedupe key this delivery claimed (it is the live one for its event); null otherwise. */
  claim: string | null;
}

/**
 * Claims known to be confirmed: dedupe key → the `processed` delivery holding it. Such a claim is
 * never given up (only an unconfirmed claimer releases its claim), so a later copy of the event is a
 * duplicate of that delivery for as long as its row exists, days longer than any entry here lives.
 * Knowing it turns a duplicate's three statements (the failed claim, the read of the claimer, the
 * insert) into the one insert. A key missing here (another replica confirmed it, or it was evicted)
 * goes through the database as before, so the answer is the same either way.
 */
export interface ConfirmedClaims {
  get(key: string): number | undefined;
  set(key: string, id: number): unknown;
}

type WebhookDeliveryValues = Insertable<WebhookDeliveryTable>;

/**
 * Every column a stored delivery sets (the rest, error and outcome, start NULL), written out
 * (rowsInsert): the ingest path stores every delivery this way, and the query builder was the
 * largest cost of storing a delivery in our own code under load.
 */
const insertDeliveryRows = rowsInsert<WebhookDeliveryValues>('webhook_deliveries', [
  'received_at',
  'source_ip',
  'content_type',
  'raw_body',
  'imp_uid',
  'merchant_uid',
  'status',
  'cancellation_id',
  'dedupe_key',
  'dedupe_claim',
  'duplicate_of',
  'state',
  'attempts',
  'processed_at',
]);

/** Inserts rows in one statement; the id the driver reports (the first row's on MySQL, the last's on SQLite). */
async function insertRows(db: Db, rows: readonly WebhookDeliveryValues[]): Promise<bigint | undefined> {
  return (await db.executeQuery(insertDeliveryRows(rows))).insertId;
}

/** The columns every copy of a delivery shares, whichever way it is stored. */
function deliveryColumns(input: WebhookDeliveryInput) {
  const receivedAt = toDbTime(input.receivedAt ?? new Date());
  const dedupeKey = input.dedupeKey === undefined ? webhookDedupeKey(input) : input.dedupeKey;
  const base = {
    received_at: receivedAt,
    source_ip: input.sourceIp ?? null,
    content_type: input.contentType ?? null,
    raw_body: input.rawBody,
    imp_uid: input.impUid ?? null,
    merchant_uid: input.merchantUid ?? null,
    status: input.status ?? null,
    cancellation_id: input.cancellationId ?? null,
    dedupe_key: dedupeKey,
    attempts: 0,
  };
  return { base, dedupeKey, receivedAt };
}

type DeliveryColumns = ReturnType<typeof deliveryColumns>;

/** The row of a copy of an event whose claimer PortOne confirmed. */
function duplicateRow({ base, receivedAt }: DeliveryColumns, claimerId: number): WebhookDeliveryValues {
  return { ...base, dedupe_claim: null, duplicate_of: claimerId, state: 'duplicate', processed_at: receivedAt };
}

/**
 * A delivery's first try: the duplicate row of a claim known to be confirmed, else the row claiming
 * its dedupe key; and what the caller is told once that row is stored.
 */
function firstTry(
  columns: DeliveryColumns,
  confirmed?: ConfirmedClaims,
): { row: WebhookDeliveryValues; result: Omit<InsertedWebhookDelivery, 'id'> } {
  const { base, dedupeKey } = columns;
  const known = dedupeKey === null ? undefined : confirmed?.get(dedupeKey);
  if (known !== undefined) {
    return { row: duplicateRow(columns, known), result: { duplicate: true, duplicateOf: known, claim: null } };
  }
  return {
    row: { ...base, dedupe_claim: dedupeKey, state: 'received' },
    result: { duplicate: false, duplicateOf: null, claim: dedupeKey },
  };
}

/**
 * Stores a delivery before anything acts on it, and says whether it repeats an event already taken.
 * The first delivery of an event claims its dedupe key through a unique index. A later copy is a
 * `duplicate` only when the claimer was confirmed by PortOne (`processed`): a copy arriving while the
 * claimer is still unconfirmed is stored `received` without a claim and processed on its own (the
 * processing is idempotent), so a forged delivery can never make the genuine one a duplicate. A
 * claimer that ends any other way (forged, failed, ignored, sandbox) gives its claim up.
 */
export async function insertWebhookDelivery(
  db: Db,
  input: WebhookDeliveryInput,
  confirmed?: ConfirmedClaims,
): Promise<InsertedWebhookDelivery> {
  const columns = deliveryColumns(input);
  const { base, dedupeKey } = columns;
  const insert = async (row: WebhookDeliveryValues) => fromBigIntId((await insertRows(db, [row])) ?? 0n);
  const first = firstTry(columns, confirmed);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return { id: await insert(first.row), ...first.result };
    } catch (error) {
      if (first.result.duplicate || dedupeKey === null || !isUniqueViolation(error)) throw error;
    }
    const claimer = await db
      .selectFrom('webhook_deliveries')
      .select(['id', 'state'])
      .where('dedupe_claim', '=', dedupeKey)
      .executeTakeFirst();
    // The claimer let go between our insert and this read: try to claim again.
    if (!claimer) continue;
    if (claimer.state !== 'processed') {
      const id = await insert({ ...base, dedupe_claim: null, state: 'received' });
      return { id, duplicate: false, duplicateOf: null, claim: null };
    }
    const claimerId = fromBigIntId(claimer.id);
    confirmed?.set(dedupeKey, claimerId);
    return { id: await insert(duplicateRow(columns, claimerId)), duplicate: true, duplicateOf: claimerId, claim: null };
  }
  throw new Error(`could not store webhook delivery for dedupe key ${dedupeKey}`);
}

/**
 * Stores deliveries that arrived together in one multi-row INSERT: one statement, one commit, all or
 * nothing. Each row is the first try `insertWebhookDelivery` would make (the duplicate of a known
 * confirmed claim, else the claim), so when every row goes in the answers are the ones it would give.
 * When any row does not (a claim taken already, two copies of one event in the batch), nothing is
 * stored and this throws: the caller stores each delivery on its own instead.
 */
export async function insertWebhookDeliveries(
  db: Db,
  inputs: WebhookDeliveryInput[],
  confirmed?: ConfirmedClaims,
): Promise<InsertedWebhookDelivery[]> {
  const tries = inputs.map((input) => firstTry(deliveryColumns(input), confirmed));
  const numbering = await multiRowIds(db);
  const rows = tries.map((t) => t.row);
  const ids = numbering(await insertRows(db, rows), rows.length);
  return tries.map((t, i) => ({ id: ids[i]!, ...t.result }));
}

/**
 * How processing ended: a short note (stored as the outcome; for `failed` also as the error), or
 * `outcome` (any JSON: what we did and why) and `error` (a message safe to show operators).
 */
export type WebhookOutcomeDetail = string | { outcome?: unknown; error?: string | null; now?: Date };

/**
 * Records how processing ended and counts the attempt. Only `processed` (PortOne confirmed the event)
 * keeps the dedupe claim; every other end releases it (see insertWebhookDelivery). Returns false for
 * an unknown id.
 */
export async function markWebhookProcessed(
  db: Db,
  id: number,
  state: Exclude<WebhookState, 'received' | 'duplicate'>,
  detailOrNote: WebhookOutcomeDetail = {},
): Promise<boolean> {
  const detail =
    typeof detailOrNote === 'string'
      ? { outcome: detailOrNote, error: state === 'failed' ? detailOrNote : null }
      : detailOrNote;
  const result = await db
    .updateTable('webhook_deliveries')
    .set((eb) => ({
      state,
      attempts: eb('attempts', '+', 1),
      processed_at: toDbTime(detail.now ?? new Date()),
      error: detail.error ?? null,
      outcome: detail.outcome === undefined ? null : toDbJson(detail.outcome),
      ...(state === 'processed' ? {} : { dedupe_claim: null }),
    }))
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** A stored delivery that can still be acted on: it names a payment and a status. */
export type UnprocessedWebhook = WebhookDeliveryRecord & { impUid: string; status: string };

/**
 * Deliveries a crash or an error left unfinished, oldest first, for a recovery sweep: `received` ones
 * (stored but never finished) and `failed` ones with attempts left. Only deliveries naming an imp_uid
 * and a status are listed (anything else has nothing to process). `receivedBefore` keeps the sweep off
 * deliveries a live request is still handling.
 */
export async function listUnprocessedWebhooks(
  db: Db,
  query: { receivedBefore?: Date; maxAttempts?: number; limit?: number } = {},
): Promise<UnprocessedWebhook[]> {
  let select = db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('state', 'in', ['received', 'failed'])
    .where('attempts', '<', query.maxAttempts ?? 5)
    .where('imp_uid', 'is not', null)
    .where('status', 'is not', null);
  if (query.receivedBefore) select = select.where('received_at', '<', toDbTime(query.receivedBefore));
  const rows = await select
    .orderBy('received_at', 'asc')
    .orderBy('id', 'asc')
    .limit(query.limit ?? 100)
    .execute();
  return rows
    .map(toWebhookDeliveryRecord)
    .filter((r): r is UnprocessedWebhook => r.impUid !== null && r.status !== null);
}

export async function getWebhookDelivery(db: Db, id: number): Promise<WebhookDeliveryRecord | undefined> {
  const row = await db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toWebhookDeliveryRecord(row) : undefined;
}

/**
 * Deletes up to `limit` of the oldest deliveries received before `before`; returns how many. Ids
 * come first through the received_at index, then one DELETE by primary key (SQLite has no DELETE …
 * LIMIT, MySQL no LIMIT in an IN subquery): each call is one short statement, so purging a large
 * backlog, call after call, never holds the table's locks for long.
 */
export async function deleteWebhookDeliveriesBefore(db: Db, before: Date, limit: number): Promise<number> {
  const rows = await db
    .selectFrom('webhook_deliveries')
    .select('id')
    .where('received_at', '<', toDbTime(before))
    .orderBy('received_at', 'asc')
    .limit(limit)
    .execute();
  return deleteIds(
    db,
    'webhook_deliveries',
    rows.map((r) => r.id),
  );
}
