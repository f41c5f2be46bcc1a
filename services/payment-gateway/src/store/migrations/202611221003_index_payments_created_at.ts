import { dropIndex, type MigrationDb } from './_schema-kit.ts';

export async function up(db: MigrationDb): Promise<void> {
  await db.schema.createIndex('payments_created_at_idx').on('payments').columns(['created_at']).execute();
}

export async function down(db: MigrationDb): Promise<void> {
  await dropIndex(db, 'payments_created_at_idx', 'payments');
}
