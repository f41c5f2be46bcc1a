import { longText, type MigrationDb, tableOptions } from './_schema-kit.ts';

export async function up(db: MigrationDb): Promise<void> {
  await tableOptions(
    db,
    db.schema
      .createTable('payments')
      .addColumn('imp_uid', 'varchar(64)', (c) => c.primaryKey().notNull())
      .addColumn('merchant_uid', 'varchar(80)', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('amount', 'decimal(18, 2)', (c) => c.notNull())
      .addColumn('cancel_amount', 'decimal(18, 2)', (c) => c.notNull().defaultTo(0))
      .addColumn('currency', 'varchar(8)', (c) => c.notNull())
      .addColumn('pay_method', 'varchar(32)')
      .addColumn('channel', 'varchar(16)')
      .addColumn('pg_provider', 'varchar(32)')
      .addColumn('emb_pg_provider', 'varchar(32)')
      .addColumn('pg_tid', 'varchar(128)')
      .addColumn('apply_num', 'varchar(32)')
      .addColumn('name', 'varchar(255)')
      .addColumn('buyer_name', 'varchar(255)')
      .addColumn('buyer_email', 'varchar(255)')
      .addColumn('buyer_tel', 'varchar(32)')
      .addColumn('buyer_addr', 'varchar(255)')
      .addColumn('buyer_postcode', 'varchar(16)')
      .addColumn('card_code', 'varchar(16)')
      .addColumn('card_name', 'varchar(64)')
      .addColumn('card_number', 'varchar(32)')
      .addColumn('card_quota', 'integer')
      .addColumn('card_type', 'smallint')
      .addColumn('vbank_code', 'varchar(16)')
      .addColumn('vbank_name', 'varchar(64)')
      .addColumn('vbank_num', 'varchar(64)')
      .addColumn('vbank_holder', 'varchar(64)')
      .addColumn('vbank_date', 'datetime(3)')
      .addColumn('customer_uid', 'varchar(80)')
      .addColumn('customer_uid_usage', 'varchar(32)')
      .addColumn('sandbox', 'boolean', (c) => c.notNull().defaultTo(0))
      .addColumn('started_at', 'datetime(3)')
      .addColumn('paid_at', 'datetime(3)')
      .addColumn('failed_at', 'datetime(3)')
      .addColumn('cancelled_at', 'datetime(3)')
      .addColumn('fail_reason', 'text')
      .addColumn('cancel_reason', 'text')
      .addColumn('receipt_url', 'text')
      .addColumn('custom_data', 'text')
      .addColumn('raw', longText, (c) => c.notNull())
      .addColumn('verification_status', 'varchar(16)', (c) => c.notNull().defaultTo('unverified'))
      .addColumn('forged', 'boolean', (c) => c.notNull().defaultTo(0))
      .addColumn('verified_at', 'datetime(3)')
      .addColumn('verification_detail', 'text')
      .addColumn('created_at', 'datetime(3)', (c) => c.notNull())
      .addColumn('updated_at', 'datetime(3)', (c) => c.notNull()),
  ).execute();
}

export async function down(db: MigrationDb): Promise<void> {
  await db.schema.dropTable('payments').execute();
}
