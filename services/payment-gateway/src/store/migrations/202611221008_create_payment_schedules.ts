import { type MigrationDb, tableOptions } from './_schema-kit.ts';

export async function up(db: MigrationDb): Promise<void> {
  await tableOptions(
    db,
    db.schema
      .createTable('payment_schedules')
      .addColumn('merchant_uid', 'varchar(80)', (c) => c.primaryKey().notNull())
      .addColumn('customer_uid', 'varchar(80)', (c) => c.notNull())
      .addColumn('schedule_at', 'datetime(3)', (c) => c.notNull())
      .addColumn('amount', 'decimal(18, 2)', (c) => c.notNull())
      .addColumn('currency', 'varchar(8)', (c) => c.notNull())
      .addColumn('name', 'varchar(255)')
      .addColumn('schedule_status', 'varchar(16)', (c) => c.notNull())
      .addColumn('payment_status', 'varchar(16)')
      .addColumn('imp_uid', 'varchar(64)')
      .addColumn('executed_at', 'datetime(3)')
      .addColumn('revoked_at', 'datetime(3)')
      .addColumn('fail_reason', 'text')
      .addColumn('created_at', 'datetime(3)', (c) => c.notNull())
      .addColumn('updated_at', 'datetime(3)', (c) => c.notNull()),
  ).execute();
}

export async function down(db: MigrationDb): Promise<void> {
  await db.schema.dropTable('payment_schedules').execute();
}
