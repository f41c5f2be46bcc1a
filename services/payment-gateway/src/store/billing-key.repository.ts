import type { BillingKeyRow } from './billing-key.table.ts';
import { clip, fromDbTime, fromNullableDbTime, maskCardNumber, toDbTime, unixToDbTime } from './codec.ts';
import type { Db } from './database.ts';
import { inTransaction, isUniqueViolation } from './sql.ts';

/** PortOne's CustomerAnnotation, as much as we keep. Card secrets have no field here on purpose. */
export interface PortOneBillingKey {
  customer_uid: string;
  pg_provider?: string | null;
  pg_id?: string | null;
  card_name?: string | null;
  card_code?: string | null;
  card_number?: string | null;
  card_type?: number | null;
  customer_name?: string | null;
  customer_email?: string | null;
  inserted?: number | null;
  updated?: number | null;
}

export interface BillingKeyRecord {
  customerUid: string;
  pgProvider: string | null;
  pgId: string | null;
  cardName: string | null;
  cardCode: string | null;
  cardNumber: string | null;
  cardType: number | null;
  customerName: string | null;
  customerEmail: string | null;
  insertedAt: Date | null;
  portoneUpdatedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
}

export function toBillingKeyRecord(row: BillingKeyRow): BillingKeyRecord {
  return {
    customerUid: row.customer_uid,
    pgProvider: row.pg_provider,
    pgId: row.pg_id,
    cardName: row.card_name,
    cardCode: row.card_code,
    cardNumber: row.card_number,
    cardType: row.card_type,
    customerName: row.customer_name,
    customerEmail: row.customer_email,
    insertedAt: fromNullableDbTime(row.portone_inserted_at),
    portoneUpdatedAt: fromNullableDbTime(row.portone_updated_at),
    createdAt: fromDbTime(row.created_at),
    updatedAt: fromDbTime(row.updated_at),
    deletedAt: fromNullableDbTime(row.deleted_at),
  };
}

/**
 * Stores PortOne's view of a billing key. Re-issuing a customer_uid replaces the card (PortOne does
 * the same) and brings a deleted key back to life.
 */
export async function upsertBillingKey(
  db: Db,
  key: PortOneBillingKey,
  options: { now?: Date } = {},
): Promise<BillingKeyRecord> {
  const now = toDbTime(options.now ?? new Date());
  const values = {
    pg_provider: key.pg_provider ?? null,
    pg_id: key.pg_id ?? null,
    card_name: clip(key.card_name, 64),
    card_code: key.card_code ?? null,
    card_number: maskCardNumber(key.card_number),
    card_type: typeof key.card_type === 'number' ? key.card_type : null,
    customer_name: clip(key.customer_name, 255),
    customer_email: clip(key.customer_email, 255),
    portone_inserted_at: unixToDbTime(key.inserted),
    portone_updated_at: unixToDbTime(key.updated),
    updated_at: now,
    deleted_at: null,
  };
  return inTransaction(db, async (trx) => {
    // Insert first (see savePrepared: update-then-insert of new rows deadlocks on MySQL gap locks).
    try {
      await trx
        .insertInto('billing_keys')
        .values({ customer_uid: key.customer_uid, ...values, created_at: now })
        .execute();
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      await trx.updateTable('billing_keys').set(values).where('customer_uid', '=', key.customer_uid).execute();
    }
    const row = await trx
      .selectFrom('billing_keys')
      .selectAll()
      .where('customer_uid', '=', key.customer_uid)
      .executeTakeFirstOrThrow();
    return toBillingKeyRecord(row);
  });
}

/** A billing key, deleted ones included (check `deletedAt`). */
export async function getBillingKey(db: Db, customerUid: string): Promise<BillingKeyRecord | undefined> {
  const row = await db
    .selectFrom('billing_keys')
    .selectAll()
    .where('customer_uid', '=', customerUid)
    .executeTakeFirst();
  return row ? toBillingKeyRecord(row) : undefined;
}

export interface ListBillingKeysQuery {
  /** Only these customer_uids (all when omitted). */
  customerUids?: readonly string[];
  includeDeleted?: boolean;
  /** 1-based (default 1). */
  page?: number;
  /** Default 1000. */
  limit?: number;
}

/** A page of billing keys by customer_uid, live ones unless asked otherwise, with the filter's total. */
export async function listBillingKeys(
  db: Db,
  query: ListBillingKeysQuery = {},
): Promise<{ total: number; items: BillingKeyRecord[] }> {
  if (query.customerUids && query.customerUids.length === 0) return { total: 0, items: [] };
  let filtered = db.selectFrom('billing_keys');
  if (query.customerUids) filtered = filtered.where('customer_uid', 'in', [...query.customerUids]);
  if (!query.includeDeleted) filtered = filtered.where('deleted_at', 'is', null);
  const limit = query.limit ?? 1000;
  const counted = await filtered.select((eb) => eb.fn.countAll<number | string>().as('total')).executeTakeFirst();
  const rows = await filtered
    .selectAll()
    .orderBy('customer_uid', 'asc')
    .limit(limit)
    .offset((Math.max(1, query.page ?? 1) - 1) * limit)
    .execute();
  return { total: Number(counted?.total ?? 0), items: rows.map(toBillingKeyRecord) };
}

/** Marks a key deleted (soft: schedules and payments still refer to it). False when unknown. */
export async function markBillingKeyDeleted(
  db: Db,
  customerUid: string,
  options: { now?: Date } = {},
): Promise<boolean> {
  const now = toDbTime(options.now ?? new Date());
  const result = await db
    .updateTable('billing_keys')
    .set({ deleted_at: now, updated_at: now })
    .where('customer_uid', '=', customerUid)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
