import { type MigrationDb, tableOptions } from './_schema-kit.ts';

export async function up(db: MigrationDb): Promise<void> {
  await tableOptions(
    db,
    db.schema
      .createTable('prepared_payments')
      .addColumn('merchant_uid', 'varchar(80)', (c) => c.primaryKey().notNull())
      .addColumn('amount', 'decimal(18, 2)', (c) => c.notNull())
      .addColumn('currency', 'varchar(8)')
      .addColumn('created_at', 'datetime(3)', (c) => c.notNull())
      .addColumn('updated_at', 'datetime(3)', (c) => c.notNull()),
  ).execute();
}

export async function down(db: MigrationDb): Promise<void> {
  await db.schema.dropTable('prepared_payments').execute();
}
