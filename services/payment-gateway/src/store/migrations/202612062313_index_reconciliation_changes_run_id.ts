import { dropIndex, type MigrationDb } from './_schema-kit.ts';

export async function up(db: MigrationDb): Promise<void> {
  await db.schema
    .createIndex('reconciliation_changes_run_idx')
    .on('reconciliation_changes')
    .columns(['run_id', 'id'])
    .execute();
}

export async function down(db: MigrationDb): Promise<void> {
  await dropIndex(db, 'reconciliation_changes_run_idx', 'reconciliation_changes');
}
