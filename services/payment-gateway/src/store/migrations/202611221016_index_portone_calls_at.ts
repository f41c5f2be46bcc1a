import { dropIndex, type MigrationDb } from './_schema-kit.ts';

export async function up(db: MigrationDb): Promise<void> {
  await db.schema.createIndex('portone_calls_at_idx').on('portone_calls').columns(['at']).execute();
}

export async function down(db: MigrationDb): Promise<void> {
  await dropIndex(db, 'portone_calls_at_idx', 'portone_calls');
}
