import { dropIndex, type MigrationDb } from './_schema-kit.ts';

/** In order per payment: is an earlier delivery of the same subject to the same endpoint still pending? */
export async function up(db: MigrationDb): Promise<void> {
  await db.schema
    .createIndex('notification_deliveries_order_idx')
    .on('notification_deliveries')
    .columns(['endpoint_id', 'subject', 'status', 'id'])
    .execute();
}

export async function down(db: MigrationDb): Promise<void> {
  await dropIndex(db, 'notification_deliveries_order_idx', 'notification_deliveries');
}
