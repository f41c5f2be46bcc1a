import { dropIndex, type MigrationDb } from './_schema-kit.ts';

/** The dispatcher's scan: pending deliveries by when they are due. */
export async function up(db: MigrationDb): Promise<void> {
  await db.schema
    .createIndex('notification_deliveries_due_idx')
    .on('notification_deliveries')
    .columns(['status', 'next_attempt_at'])
    .execute();
}

export async function down(db: MigrationDb): Promise<void> {
  await dropIndex(db, 'notification_deliveries_due_idx', 'notification_deliveries');
}
