import type { ExpressionBuilder, Updateable } from 'kysely';
import { fromDbJson, fromDbTime, toDbJson, toDbTime } from './codec.ts';
import type { Database, Db } from './database.ts';
import type { IdempotencyKeyTable } from './idempotency.table.ts';
import { isUniqueViolation } from './sql.ts';

export interface BeginIdempotentInput {
  /** Who the key belongs to (API key id): keys of different callers never collide. */
  scope: string;
  key: string;
  method: string;
  path: string;
  bodyHash: string;
  ttlSeconds: number;
  /** How long an in-flight key stays locked to its holder: a bound above the longest request. */
  leaseSeconds?: number;
  now?: Date;
}

/** The default lease: well above the longest request (PortOne timeouts × retries, the inline budgets). */
export const DEFAULT_LEASE_SECONDS = 120;

export type BeginIdempotentResult =
  /**
   * This request owns the key until `lease` (pass it to completeIdempotent/abandonIdempotent): do the
   * work, then complete or abandon it.
   */
  | { kind: 'started'; lease: Date; createdAt: Date }
  /**
   * The previous holder's lease ran out while the key was in flight (it crashed or was killed): this
   * request owns the key now, but the previous attempt may have done part of the work — a charge must
   * be looked up before it is sent again.
   */
  | { kind: 'taken_over'; lease: Date; checkpoint: unknown; createdAt: Date }
  /** Done before: answer with the stored response (`checkpoint` as the request that answered left it). */
  | { kind: 'replay'; status: number; body: unknown; checkpoint: unknown; createdAt: Date }
  /** Another request with this key is running. */
  | { kind: 'in_flight' }
  /** The key was used for a different method, path or body. */
  | { kind: 'mismatch' };

/**
 * Claims an idempotency key. Atomic under concurrency: the claim is an INSERT on the
 * (scope, idem_key) primary key, so of N simultaneous requests exactly one gets `started`; the others
 * read the winner's row. An expired row is taken over with a conditional UPDATE (only one request can
 * match `expires_at <= now`), never by check-then-insert; so is an in-flight row whose lease ran out
 * (only one request can match `locked_until <= now`: the winner moves it into the future).
 */
export async function beginIdempotent(db: Db, input: BeginIdempotentInput): Promise<BeginIdempotentResult> {
  const now = input.now ?? new Date();
  const nowText = toDbTime(now);
  const leaseMs = (input.leaseSeconds ?? DEFAULT_LEASE_SECONDS) * 1000;
  const lease = new Date(now.getTime() + leaseMs);
  const leaseText = toDbTime(lease);
  const fresh = {
    method: input.method,
    path: input.path,
    body_hash: input.bodyHash,
    state: 'in_flight',
    response_status: null,
    response_body: null,
    created_at: nowText,
    completed_at: null,
    expires_at: toDbTime(new Date(now.getTime() + input.ttlSeconds * 1000)),
    locked_until: leaseText,
    checkpoint: null,
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await db
        .insertInto('idempotency_keys')
        .values({ scope: input.scope, idem_key: input.key, ...fresh })
        .execute();
      return { kind: 'started', lease, createdAt: now };
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
    }
    const row = await db
      .selectFrom('idempotency_keys')
      .selectAll()
      .where('scope', '=', input.scope)
      .where('idem_key', '=', input.key)
      .executeTakeFirst();
    if (!row) continue; // purged between our insert and this read
    if (row.expires_at <= nowText) {
      const taken = await db
        .updateTable('idempotency_keys')
        .set(fresh)
        .where('scope', '=', input.scope)
        .where('idem_key', '=', input.key)
        .where('expires_at', '<=', nowText)
        .executeTakeFirst();
      if (Number(taken.numUpdatedRows) > 0) return { kind: 'started', lease, createdAt: now };
      continue; // someone else took it over first; read their row
    }
    if (row.method !== input.method || row.path !== input.path || row.body_hash !== input.bodyHash) {
      return { kind: 'mismatch' };
    }
    if (row.state === 'completed' && row.response_status != null) {
      return {
        kind: 'replay',
        status: row.response_status,
        body: fromDbJson(row.response_body),
        checkpoint: fromDbJson(row.checkpoint),
        createdAt: fromDbTime(row.created_at),
      };
    }
    const leaseOver =
      row.locked_until == null
        ? row.created_at <= toDbTime(new Date(now.getTime() - leaseMs))
        : row.locked_until <= nowText;
    if (leaseOver) {
      // Compare-and-set on the lease we read: of several retries only the first moves it forward.
      const taken = await db
        .updateTable('idempotency_keys')
        .set({ locked_until: leaseText })
        .where('scope', '=', input.scope)
        .where('idem_key', '=', input.key)
        .where('state', '=', 'in_flight')
        .where((eb) =>
          row.locked_until == null
            ? eb('locked_until', 'is', null)
            : eb('locked_until', '=', row.locked_until as string),
        )
        .executeTakeFirst();
      if (Number(taken.numUpdatedRows) > 0) {
        return {
          kind: 'taken_over',
          lease,
          checkpoint: fromDbJson(row.checkpoint),
          createdAt: fromDbTime(row.created_at),
        };
      }
      continue; // another retry took it over first; read its row
    }
    return { kind: 'in_flight' };
  }
  return { kind: 'in_flight' };
}

/** What identifies the holder of a key: with `lease`, only that holder (not one it was taken from). */
interface KeyHolder {
  scope: string;
  key: string;
  /** The lease beginIdempotent returned; a holder whose key was taken over then changes nothing. */
  lease?: Date;
}

/** The row of an in-flight key, and with `lease` only while that holder still has it. */
function heldBy(holder: KeyHolder) {
  return (eb: ExpressionBuilder<Database, 'idempotency_keys'>) =>
    eb.and([
      eb('scope', '=', holder.scope),
      eb('idem_key', '=', holder.key),
      eb('state', '=', 'in_flight'),
      ...(holder.lease ? [eb('locked_until', '=', toDbTime(holder.lease))] : []),
    ]);
}

async function updateHeld(db: Db, holder: KeyHolder, values: Updateable<IdempotencyKeyTable>): Promise<boolean> {
  const result = await db.updateTable('idempotency_keys').set(values).where(heldBy(holder)).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * Stores the answer to replay. False when the key is not in flight (expired and purged, or done) or
 * no longer this holder's (taken over after its lease ran out).
 */
export async function completeIdempotent(
  db: Db,
  input: KeyHolder & { status: number; body: unknown; now?: Date },
): Promise<boolean> {
  return updateHeld(db, input, {
    state: 'completed',
    response_status: input.status,
    response_body: toDbJson(input.body),
    completed_at: toDbTime(input.now ?? new Date()),
  });
}

/**
 * Records what the holder is about to do that moves money (before it does it). False when the key is
 * no longer this holder's. Written on the root handle (autocommit), never inside a transaction: it has
 * to survive that transaction's rollback and the process dying, so a transaction is refused here.
 */
export async function saveIdempotencyCheckpoint(db: Db, input: KeyHolder & { checkpoint: unknown }): Promise<boolean> {
  if (db.isTransaction) throw new Error('an idempotency checkpoint is written outside any transaction');
  return updateHeld(db, input, { checkpoint: toDbJson(input.checkpoint) });
}

/**
 * Lets go of an in-flight key so the client can retry: only for failures that surely moved no money
 * (validation, PortOne unreachable before sending). A completed key is never abandoned.
 */
export async function abandonIdempotent(db: Db, input: KeyHolder): Promise<boolean> {
  const result = await db.deleteFrom('idempotency_keys').where(heldBy(input)).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Deletes keys past their expiry; returns how many. */
export async function purgeExpiredIdempotency(db: Db, now: Date = new Date()): Promise<number> {
  const result = await db.deleteFrom('idempotency_keys').where('expires_at', '<=', toDbTime(now)).executeTakeFirst();
  return Number(result.numDeletedRows);
}
