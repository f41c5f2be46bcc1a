import { type MigrationDb, tableOptions } from './_schema-kit.ts';

export async function up(db: MigrationDb): Promise<void> {
  await tableOptions(
    db,
    db.schema
      .createTable('billing_keys')
      .addColumn('customer_uid', 'varchar(80)', (c) => c.primaryKey().notNull())
      .addColumn('pg_provider', 'varchar(32)')
      .addColumn('pg_id', 'varchar(80)')
      .addColumn('card_name', 'varchar(64)')
      .addColumn('card_code', 'varchar(16)')
      // Masked as PortOne returns it (457972******1234); the repository re-masks anything longer.
      .addColumn('card_number', 'varchar(32)')
      .addColumn('card_type', 'smallint')
      .addColumn('customer_name', 'varchar(255)')
      .addColumn('customer_email', 'varchar(255)')
      .addColumn('portone_inserted_at', 'datetime(3)')
      .addColumn('portone_updated_at', 'datetime(3)')
      .addColumn('created_at', 'datetime(3)', (c) => c.notNull())
      .addColumn('updated_at', 'datetime(3)', (c) => c.notNull())
      .addColumn('deleted_at', 'datetime(3)'),
  ).execute();
}

export async function down(db: MigrationDb): Promise<void> {
  await db.schema.dropTable('billing_keys').execute();
}
