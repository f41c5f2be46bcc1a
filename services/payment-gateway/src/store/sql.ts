// SQL helpers the repositories share: the dialect, driver error codes, transactions, batch deletes.
import { CompiledQuery, type Kysely, MysqlAdapter, sql } from 'kysely';
import { fromBigIntId } from './codec.ts';
import type { Db, Trx } from './database.ts';

export type DialectName = 'mysql' | 'sqlite';

export function dialectOf<DB>(db: Kysely<DB>): DialectName {
  return db.getExecutor().adapter instanceof MysqlAdapter ? 'mysql' : 'sqlite';
}

/** Per handle: the step between auto-increment ids (auto_increment_increment; Galera sets it). */
const autoIncrementSteps = new WeakMap<object, Promise<number>>();

function autoIncrementStep<DB>(db: Kysely<DB>): Promise<number> {
  let step = autoIncrementSteps.get(db);
  if (step === undefined) {
    step = sql<{ step: number | string }>`SELECT @@auto_increment_increment AS step`
      .execute(db)
      .then((result) => Number(result.rows[0]?.step ?? 1));
    // A failed read is not remembered: the next batch asks again.
    step.catch(() => autoIncrementSteps.delete(db));
    autoIncrementSteps.set(db, step);
  }
  return step;
}

/**
 * How to number the rows of a multi-row INSERT … VALUES: `(insertId, rows)` turns the id the driver
 * reported into their ids, in order. MySQL/MariaDB report the first id and reserve the statement's ids at once (in every
 * innodb_autoinc_lock_mode), each `auto_increment_increment` after the one before (1, unless e.g.
 * Galera spaces them); SQLite reports the last, and a statement numbers its rows one by one under
 * its write lock. Asked before the INSERT, so a failure here never follows rows already committed.
 */
export async function multiRowIds<DB>(
  db: Kysely<DB>,
): Promise<(insertId: bigint | undefined, rows: number) => number[]> {
  const mysql = dialectOf(db) === 'mysql';
  const step = mysql ? await autoIncrementStep(db) : 1;
  return (insertId, rows) => {
    const reported = fromBigIntId(insertId ?? 0n);
    const first = mysql ? reported : reported - rows + 1;
    return Array.from({ length: rows }, (_, i) => first + i * step);
  };
}

/**
 * A multi-row INSERT of `columns` into `table`, written out instead of built with
 * `insertInto().values()`: the query builder parses each row's values into operation nodes and
 * compiles them, ~7 µs a row (bench/), more than the rest of the write. The statement text is made
 * once per row count. Plain `?` placeholders and unquoted lower-case names read the same on MySQL
 * and SQLite. A column a row leaves out is written NULL.
 */
export function rowsInsert<Row>(
  table: string,
  columns: readonly (keyof Row & string)[],
): (rows: readonly Row[]) => CompiledQuery {
  const prefix = `insert into ${table} (${columns.join(', ')}) values `;
  const placeholders = `(${columns.map(() => '?').join(', ')})`;
  const texts = new Map<number, string>();
  return (rows) => {
    let text = texts.get(rows.length);
    if (text === undefined) {
      text = prefix + new Array<string>(rows.length).fill(placeholders).join(', ');
      texts.set(rows.length, text);
    }
    const parameters: unknown[] = [];
    for (const row of rows) for (const column of columns) parameters.push(row[column] ?? null);
    return CompiledQuery.raw(text, parameters);
  };
}

interface DriverError {
  code?: unknown;
  errno?: unknown;
  errcode?: unknown;
}

/** A duplicate primary/unique key: mysql2 ER_DUP_ENTRY (1062), SQLite CONSTRAINT_PRIMARYKEY/UNIQUE. */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as DriverError;
  return e.code === 'ER_DUP_ENTRY' || e.errno === 1062 || e.errcode === 1555 || e.errcode === 2067;
}

/** InnoDB chose this transaction as a deadlock victim (1213); the whole transaction may be re-run. */
function isDeadlock(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as DriverError;
  return e.code === 'ER_LOCK_DEADLOCK' || e.errno === 1213;
}

/**
 * Runs `work` in a transaction: the caller's, when `db` already is one (then errors propagate, since
 * the caller owns the transaction), or a new one that is re-run when it lost a race for a new row
 * (duplicate key or deadlock between two first inserts of the same key).
 */
export async function inTransaction<T>(db: Db, work: (trx: Trx) => Promise<T>, attempts = 3): Promise<T> {
  if (db.isTransaction) return work(db as Trx);
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().execute(work);
    } catch (error) {
      if (attempt >= attempts || !(isUniqueViolation(error) || isDeadlock(error))) throw error;
    }
  }
}

/** Tables the retention purge deletes from in batches. */
export type PurgedTable =
  | 'webhook_deliveries'
  | 'portone_calls'
  | 'notification_deliveries'
  | 'notification_events'
  | 'reconciliation_changes'
  | 'reconciliation_runs';

/**
 * The second half of one purge batch: a DELETE by primary key of ids a caller selected through its
 * date index (SQLite has no DELETE … LIMIT, MySQL no LIMIT in an IN subquery), so every batch is one
 * short statement. Returns how many rows went.
 */
export async function deleteIds(db: Db, table: PurgedTable, ids: readonly (number | string)[]): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await db
    .deleteFrom(table)
    .where('id', 'in', [...ids] as number[])
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
