import { dropIndex, type MigrationDb } from './_schema-kit.ts';

export async function up(db: MigrationDb): Promise<void> {
  await db.schema
    .createIndex('webhook_deliveries_state_idx')
    .on('webhook_deliveries')
    .columns(['state', 'received_at'])
    .execute();
}

export async function down(db: MigrationDb): Promise<void> {
  await dropIndex(db, 'webhook_deliveries_state_idx', 'webhook_deliveries');
}
