import type { MigrationDb } from './_schema-kit.ts';

/**
 * The lease of an in-flight key: past it, the request that held the key is presumed dead (a crash,
 * a kill) and a retry may take the key over. NULL on rows written before this column existed.
 */
export async function up(db: MigrationDb): Promise<void> {
  await db.schema.alterTable('idempotency_keys').addColumn('locked_until', 'datetime(3)').execute();
}

export async function down(db: MigrationDb): Promise<void> {
  await db.schema.alterTable('idempotency_keys').dropColumn('locked_until').execute();
}
