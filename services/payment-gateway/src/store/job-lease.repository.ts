import { toDbTime } from './codec.ts';
import type { Db } from './database.ts';
import { isUniqueViolation } from './sql.ts';

/**
 * Takes the lease on `name` until `until` when it is free (expired, or never taken), in one autocommit
 * statement, so of several replicas asking at once exactly one gets it. Not even its holder takes an
 * unexpired lease again: the expiry is also when the job is next due.
 */
export async function acquireLease(db: Db, name: string, holder: string, until: Date, now: Date): Promise<boolean> {
  const at = toDbTime(now);
  const result = await db
    .updateTable('job_leases')
    .set({ holder, expires_at: toDbTime(until), updated_at: at })
    .where('name', '=', name)
    .where('expires_at', '<=', at)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) > 0) return true;
  try {
    await db
      .insertInto('job_leases')
      .values({ name, holder, expires_at: toDbTime(until), updated_at: at })
      .execute();
    return true;
  } catch (error) {
    if (isUniqueViolation(error)) return false; // someone holds it
    throw error;
  }
}

/** Moves our lease's expiry (longer while working, or to when the job is next due); false if lost. */
export async function extendLease(db: Db, name: string, holder: string, until: Date): Promise<boolean> {
  const result = await db
    .updateTable('job_leases')
    .set({ expires_at: toDbTime(until), updated_at: toDbTime(new Date()) })
    .where('name', '=', name)
    .where('holder', '=', holder)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
