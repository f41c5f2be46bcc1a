import { dropIndex, type MigrationDb } from './_schema-kit.ts';

export async function up(db: MigrationDb): Promise<void> {
  await db.schema.createIndex('payments_merchant_uid_idx').on('payments').columns(['merchant_uid']).execute();
}

export async function down(db: MigrationDb): Promise<void> {
  await dropIndex(db, 'payments_merchant_uid_idx', 'payments');
}
