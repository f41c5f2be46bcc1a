import { dropIndex, type MigrationDb } from './_schema-kit.ts';

export async function up(db: MigrationDb): Promise<void> {
  await db.schema
    .createIndex('idempotency_keys_expires_at_idx')
    .on('idempotency_keys')
    .columns(['expires_at'])
    .execute();
}

export async function down(db: MigrationDb): Promise<void> {
  await dropIndex(db, 'idempotency_keys_expires_at_idx', 'idempotency_keys');
}
