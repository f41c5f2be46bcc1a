import { fromDbTime, fromDecimal, toDbTime, toDecimal } from './codec.ts';
import type { Db } from './database.ts';
import type { PreparedPaymentRow } from './prepared.table.ts';
import { inTransaction, isUniqueViolation } from './sql.ts';

export interface PreparedPaymentRecord {
  merchantUid: string;
  amount: number;
  currency: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export function toPreparedRecord(row: PreparedPaymentRow): PreparedPaymentRecord {
  return {
    merchantUid: row.merchant_uid,
    amount: fromDecimal(row.amount),
    currency: row.currency,
    createdAt: fromDbTime(row.created_at),
    updatedAt: fromDbTime(row.updated_at),
  };
}

/** Stores (or replaces, as PortOne's PUT /payments/prepare does) the expected amount. */
export async function savePrepared(
  db: Db,
  prepared: { merchantUid: string; amount: number; currency?: string | null; now?: Date },
): Promise<PreparedPaymentRecord> {
  const now = toDbTime(prepared.now ?? new Date());
  const values = { amount: toDecimal(prepared.amount), currency: prepared.currency ?? null, updated_at: now };
  return inTransaction(db, async (trx) => {
    // Insert first: an UPDATE of a missing row takes a gap lock on MySQL, and two such updates
    // followed by their inserts deadlock (20 concurrent prepares did). A duplicate means it exists.
    try {
      await trx
        .insertInto('prepared_payments')
        .values({ merchant_uid: prepared.merchantUid, ...values, created_at: now })
        .execute();
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      await trx.updateTable('prepared_payments').set(values).where('merchant_uid', '=', prepared.merchantUid).execute();
    }
    const row = await trx
      .selectFrom('prepared_payments')
      .selectAll()
      .where('merchant_uid', '=', prepared.merchantUid)
      .executeTakeFirstOrThrow();
    return toPreparedRecord(row);
  });
}

export async function getPrepared(db: Db, merchantUid: string): Promise<PreparedPaymentRecord | undefined> {
  const row = await db
    .selectFrom('prepared_payments')
    .selectAll()
    .where('merchant_uid', '=', merchantUid)
    .executeTakeFirst();
  return row ? toPreparedRecord(row) : undefined;
}
