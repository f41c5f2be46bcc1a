import type { Selectable } from 'kysely';
import {
  fromBigIntId,
  fromDbTime,
  fromDecimal,
  fromNullableDbTime,
  fromNullableDecimal,
  toDbTime,
  toDecimal,
} from './codec.ts';
import type { Db } from './database.ts';
import type { ReconciliationChangeTable, ReconciliationRunTable } from './reconciliation.table.ts';
import { deleteIds } from './sql.ts';

// ---------------------------------------------------------------------------------------------------
// Records

export interface RunTotals {
  rechecked: number;
  swept: number;
  changed: number;
  discovered: number;
  errors: number;
}

export interface RunRecord extends RunTotals {
  id: number;
  holder: string;
  status: string;
  startedAt: Date;
  finishedAt: Date | null;
  windowFrom: Date;
  windowTo: Date;
  error: string | null;
}

export type ChangeReason = 'recheck' | 'sweep';

export interface ChangeRecord {
  impUid: string;
  merchantUid: string;
  fromStatus: string | null;
  toStatus: string;
  fromCancelAmount: number | null;
  toCancelAmount: number;
  reason: ChangeReason;
  at: Date;
}

function toRunRecord(row: Selectable<ReconciliationRunTable>): RunRecord {
  return {
    id: fromBigIntId(row.id),
    holder: row.holder,
    status: row.status,
    startedAt: fromDbTime(row.started_at),
    finishedAt: fromNullableDbTime(row.finished_at),
    windowFrom: fromDbTime(row.window_from),
    windowTo: fromDbTime(row.window_to),
    rechecked: row.rechecked,
    swept: row.swept,
    changed: row.changed,
    discovered: row.discovered,
    errors: row.errors,
    error: row.error,
  };
}

function toChangeRecord(row: Selectable<ReconciliationChangeTable>): ChangeRecord {
  return {
    impUid: row.imp_uid,
    merchantUid: row.merchant_uid,
    fromStatus: row.from_status,
    toStatus: row.to_status,
    fromCancelAmount: fromNullableDecimal(row.from_cancel_amount),
    toCancelAmount: fromDecimal(row.to_cancel_amount),
    reason: row.reason as ChangeReason,
    at: fromDbTime(row.at),
  };
}

// ---------------------------------------------------------------------------------------------------
// Runs

export async function startRun(
  db: Db,
  run: { holder: string; windowFrom: Date; windowTo: Date; startedAt: Date },
): Promise<number> {
  const result = await db
    .insertInto('reconciliation_runs')
    .values({
      holder: run.holder,
      status: 'running',
      started_at: toDbTime(run.startedAt),
      window_from: toDbTime(run.windowFrom),
      window_to: toDbTime(run.windowTo),
      rechecked: 0,
      swept: 0,
      changed: 0,
      discovered: 0,
      errors: 0,
    })
    .executeTakeFirstOrThrow();
  return fromBigIntId(result.insertId ?? 0n);
}

export async function finishRun(
  db: Db,
  id: number,
  outcome: RunTotals & { status: 'succeeded' | 'failed'; error?: string },
): Promise<void> {
  await db
    .updateTable('reconciliation_runs')
    .set({
      status: outcome.status,
      finished_at: toDbTime(new Date()),
      rechecked: outcome.rechecked,
      swept: outcome.swept,
      changed: outcome.changed,
      discovered: outcome.discovered,
      errors: outcome.errors,
      error: outcome.error?.slice(0, 500) ?? null,
    })
    .where('id', '=', id)
    .execute();
}

export async function recordChange(db: Db, runId: number, change: ChangeRecord): Promise<void> {
  await db
    .insertInto('reconciliation_changes')
    .values({
      run_id: runId,
      imp_uid: change.impUid,
      merchant_uid: change.merchantUid,
      from_status: change.fromStatus,
      to_status: change.toStatus,
      from_cancel_amount: change.fromCancelAmount === null ? null : toDecimal(change.fromCancelAmount),
      to_cancel_amount: toDecimal(change.toCancelAmount),
      reason: change.reason,
      at: toDbTime(change.at),
    })
    .execute();
}

/** Runs, newest first. */
export async function listRuns(db: Db, page: number, limit: number): Promise<{ total: number; items: RunRecord[] }> {
  const counted = await db
    .selectFrom('reconciliation_runs')
    .select((eb) => eb.fn.countAll<number | string>().as('total'))
    .executeTakeFirst();
  const rows = await db
    .selectFrom('reconciliation_runs')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(limit)
    .offset((page - 1) * limit)
    .execute();
  return { total: Number(counted?.total ?? 0), items: rows.map(toRunRecord) };
}

export async function getRun(db: Db, id: number): Promise<(RunRecord & { changes: ChangeRecord[] }) | undefined> {
  const row = await db.selectFrom('reconciliation_runs').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  const changes = await db
    .selectFrom('reconciliation_changes')
    .selectAll()
    .where('run_id', '=', id)
    .orderBy('id')
    .execute();
  return { ...toRunRecord(row), changes: changes.map(toChangeRecord) };
}

// ---------------------------------------------------------------------------------------------------
// Non-final payments and their backoff

/**
 * `ready` payments due for a re-fetch: virtual accounts until a day past their due date, anything else
 * for a day after we first stored it (an abandoned checkout never moves), and each only once its
 * backoff (payment_rechecks) has run out. Oldest first.
 */
export async function dueRechecks(db: Db, now: Date, limit: number): Promise<string[]> {
  const at = toDbTime(now);
  const dayAgo = toDbTime(new Date(now.getTime() - 86_400_000));
  const rows = await db
    .selectFrom('payments as p')
    .leftJoin('payment_rechecks as r', 'r.imp_uid', 'p.imp_uid')
    .select('p.imp_uid')
    .where('p.status', '=', 'ready')
    .where((eb) =>
      eb.or([
        eb('p.vbank_date', '>', dayAgo),
        eb.and([eb('p.vbank_date', 'is', null), eb('p.created_at', '>', dayAgo)]),
      ]),
    )
    .where((eb) => eb.or([eb('r.next_check_at', 'is', null), eb('r.next_check_at', '<=', at)]))
    .orderBy('p.created_at')
    .limit(limit)
    .execute();
  return rows.map((r) => r.imp_uid);
}

/** After a re-fetch: final payments leave the list; the others wait `backoff(attempts)` longer. */
export async function recordRecheck(
  db: Db,
  impUid: string,
  final: boolean,
  now: Date,
  backoffMs: (attempts: number) => number,
): Promise<void> {
  if (final) {
    await db.deleteFrom('payment_rechecks').where('imp_uid', '=', impUid).execute();
    return;
  }
  const current = await db
    .selectFrom('payment_rechecks')
    .select('attempts')
    .where('imp_uid', '=', impUid)
    .executeTakeFirst();
  const attempts = (current?.attempts ?? 0) + 1;
  const values = {
    attempts,
    next_check_at: toDbTime(new Date(now.getTime() + backoffMs(attempts))),
    last_checked_at: toDbTime(now),
  };
  if (current) {
    await db.updateTable('payment_rechecks').set(values).where('imp_uid', '=', impUid).execute();
  } else {
    await db
      .insertInto('payment_rechecks')
      .values({ imp_uid: impUid, ...values })
      .execute();
  }
}

// ---------------------------------------------------------------------------------------------------
// Retention

/**
 * One batch: changes recorded by runs started before `before`, oldest first (found through the
 * run_id index, then a DELETE by primary key). A run's changes go before the run itself.
 */
export async function deleteReconciliationChangesBefore(db: Db, before: Date, limit: number): Promise<number> {
  const rows = await db
    .selectFrom('reconciliation_changes')
    .select('id')
    .where('run_id', 'in', (eb) =>
      eb.selectFrom('reconciliation_runs').select('id').where('started_at', '<', toDbTime(before)),
    )
    .orderBy('id')
    .limit(limit)
    .execute();
  return deleteIds(
    db,
    'reconciliation_changes',
    rows.map((r) => r.id),
  );
}

/**
 * One batch: runs started before `before` that no change refers to any more (a run still `running`
 * that long after it started died with its replica). Oldest first, by primary key.
 */
export async function deleteReconciliationRunsBefore(db: Db, before: Date, limit: number): Promise<number> {
  const rows = await db
    .selectFrom('reconciliation_runs as r')
    .select('r.id')
    .where('r.started_at', '<', toDbTime(before))
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('reconciliation_changes as c').select('c.id').whereRef('c.run_id', '=', 'r.id'))),
    )
    .orderBy('r.id')
    .limit(limit)
    .execute();
  return deleteIds(
    db,
    'reconciliation_runs',
    rows.map((r) => r.id),
  );
}
