import { dropIndex, type MigrationDb } from './_schema-kit.ts';

export async function up(db: MigrationDb): Promise<void> {
  await db.schema
    .createIndex('payment_schedules_customer_uid_idx')
    .on('payment_schedules')
    .columns(['customer_uid', 'schedule_at'])
    .execute();
}

export async function down(db: MigrationDb): Promise<void> {
  await dropIndex(db, 'payment_schedules_customer_uid_idx', 'payment_schedules');
}
