import { type MigrationDb, tableOptions } from './_schema-kit.ts';

export async function up(db: MigrationDb): Promise<void> {
  await tableOptions(
    db,
    db.schema
      .createTable('payment_cancels')
      .addColumn('cancellation_id', 'varchar(128)', (c) => c.primaryKey().notNull())
      .addColumn('imp_uid', 'varchar(64)', (c) => c.notNull().references('payments.imp_uid').onDelete('cascade'))
      .addColumn('amount', 'decimal(18, 2)', (c) => c.notNull())
      .addColumn('tax_free', 'decimal(18, 2)')
      .addColumn('vat_amount', 'decimal(18, 2)')
      .addColumn('reason', 'text')
      .addColumn('pg_tid', 'varchar(128)')
      .addColumn('receipt_url', 'text')
      .addColumn('cancelled_at', 'datetime(3)', (c) => c.notNull())
      .addColumn('requested_by', 'varchar(80)')
      .addColumn('created_at', 'datetime(3)', (c) => c.notNull()),
  ).execute();
}

export async function down(db: MigrationDb): Promise<void> {
  await db.schema.dropTable('payment_cancels').execute();
}
