import { dropIndex, type MigrationDb } from './_schema-kit.ts';

/** The retention purge finds deliveries by age alone (the state index leads with state). */
export async function up(db: MigrationDb): Promise<void> {
  await db.schema
    .createIndex('webhook_deliveries_received_at_idx')
    .on('webhook_deliveries')
    .columns(['received_at'])
    .execute();
}

export async function down(db: MigrationDb): Promise<void> {
  await dropIndex(db, 'webhook_deliveries_received_at_idx', 'webhook_deliveries');
}
