import type { MigrationDb } from './_schema-kit.ts';

/**
 * A cancel's claim on its payment: until when the cancel holding it is presumed alive. Cancels of one
 * payment take turns on it without holding a transaction while PortOne answers; past it, the holder
 * is presumed dead and the next cancel takes over. NULL = nobody holds it.
 */
export async function up(db: MigrationDb): Promise<void> {
  await db.schema.alterTable('payments').addColumn('cancel_claimed_until', 'datetime(3)').execute();
}

export async function down(db: MigrationDb): Promise<void> {
  await db.schema.alterTable('payments').dropColumn('cancel_claimed_until').execute();
}
