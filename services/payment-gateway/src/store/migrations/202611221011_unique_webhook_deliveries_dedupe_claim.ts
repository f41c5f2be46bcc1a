import { dropIndex, type MigrationDb } from './_schema-kit.ts';

export async function up(db: MigrationDb): Promise<void> {
  await db.schema
    .createIndex('webhook_deliveries_dedupe_claim_uq')
    .on('webhook_deliveries')
    .columns(['dedupe_claim'])
    .unique()
    .execute();
}

export async function down(db: MigrationDb): Promise<void> {
  await dropIndex(db, 'webhook_deliveries_dedupe_claim_uq', 'webhook_deliveries');
}
