import type { MigrationDb } from './_schema-kit.ts';

/**
 * What an in-flight request committed to before it moved money (a cancel's checksum and amount), so a
 * retry with the same key after a lost answer or a crash can tell whether that money already moved.
 */
export async function up(db: MigrationDb): Promise<void> {
  await db.schema.alterTable('idempotency_keys').addColumn('checkpoint', 'text').execute();
}

export async function down(db: MigrationDb): Promise<void> {
  await db.schema.alterTable('idempotency_keys').dropColumn('checkpoint').execute();
}
