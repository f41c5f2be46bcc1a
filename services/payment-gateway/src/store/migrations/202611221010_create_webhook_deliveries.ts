import { bigId, bigIdType, longText, type MigrationDb, tableOptions } from './_schema-kit.ts';

export async function up(db: MigrationDb): Promise<void> {
  await tableOptions(
    db,
    db.schema
      .createTable('webhook_deliveries')
      .addColumn('id', bigIdType(db), bigId)
      .addColumn('received_at', 'datetime(3)', (c) => c.notNull())
      .addColumn('source_ip', 'varchar(64)')
      .addColumn('content_type', 'varchar(255)')
      .addColumn('raw_body', longText, (c) => c.notNull())
      .addColumn('imp_uid', 'varchar(64)')
      .addColumn('merchant_uid', 'varchar(80)')
      .addColumn('status', 'varchar(32)')
      .addColumn('cancellation_id', 'varchar(128)')
      .addColumn('dedupe_key', 'char(64)')
      // Holds dedupe_key while this delivery is the live one for its key; NULL for duplicates and
      // failures, so the unique index admits exactly one live delivery per key.
      .addColumn('dedupe_claim', 'char(64)')
      .addColumn('duplicate_of', bigIdType(db))
      .addColumn('state', 'varchar(16)', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('processed_at', 'datetime(3)')
      .addColumn('error', 'text')
      .addColumn('outcome', 'text'),
  ).execute();
}

export async function down(db: MigrationDb): Promise<void> {
  await db.schema.dropTable('webhook_deliveries').execute();
}
