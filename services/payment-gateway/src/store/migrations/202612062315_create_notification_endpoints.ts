import { type MigrationDb, tableOptions } from './_schema-kit.ts';

/**
 * Internal services' subscriptions to payment changes: where to POST, and the signing secrets (JSON
 * list: the current one plus, during a rotation, the previous ones until they expire).
 */
export async function up(db: MigrationDb): Promise<void> {
  await tableOptions(
    db,
    db.schema
      .createTable('notification_endpoints')
      .addColumn('id', 'varchar(40)', (c) => c.primaryKey().notNull())
      .addColumn('url', 'varchar(2048)', (c) => c.notNull())
      .addColumn('description', 'varchar(255)')
      .addColumn('secrets', 'text', (c) => c.notNull())
      .addColumn('enabled', 'boolean', (c) => c.notNull())
      .addColumn('source', 'varchar(16)', (c) => c.notNull())
      .addColumn('created_at', 'datetime(3)', (c) => c.notNull())
      .addColumn('updated_at', 'datetime(3)', (c) => c.notNull()),
  ).execute();
}

export async function down(db: MigrationDb): Promise<void> {
  await db.schema.dropTable('notification_endpoints').execute();
}
