import { bigId, bigIdType, type MigrationDb, tableOptions } from './_schema-kit.ts';

/** What a reconciliation run changed in the store: which payment, from what to what, and why. */
export async function up(db: MigrationDb): Promise<void> {
  await tableOptions(
    db,
    db.schema
      .createTable('reconciliation_changes')
      .addColumn('id', bigIdType(db), bigId)
      .addColumn('run_id', bigIdType(db), (c) => c.notNull())
      .addColumn('imp_uid', 'varchar(32)', (c) => c.notNull())
      .addColumn('merchant_uid', 'varchar(40)', (c) => c.notNull())
      .addColumn('from_status', 'varchar(16)')
      .addColumn('to_status', 'varchar(16)', (c) => c.notNull())
      .addColumn('from_cancel_amount', 'decimal(18, 2)')
      .addColumn('to_cancel_amount', 'decimal(18, 2)', (c) => c.notNull())
      .addColumn('reason', 'varchar(32)', (c) => c.notNull())
      .addColumn('at', 'datetime(3)', (c) => c.notNull()),
  ).execute();
}

export async function down(db: MigrationDb): Promise<void> {
  await db.schema.dropTable('reconciliation_changes').execute();
}
