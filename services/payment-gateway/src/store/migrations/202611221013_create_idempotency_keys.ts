import { longText, type MigrationDb, tableOptions } from './_schema-kit.ts';

export async function up(db: MigrationDb): Promise<void> {
  await tableOptions(
    db,
    db.schema
      .createTable('idempotency_keys')
      .addColumn('scope', 'varchar(80)', (c) => c.notNull())
      .addColumn('idem_key', 'varchar(255)', (c) => c.notNull())
      .addColumn('method', 'varchar(10)', (c) => c.notNull())
      .addColumn('path', 'varchar(512)', (c) => c.notNull())
      .addColumn('body_hash', 'char(64)', (c) => c.notNull())
      .addColumn('state', 'varchar(16)', (c) => c.notNull())
      .addColumn('response_status', 'integer')
      .addColumn('response_body', longText)
      .addColumn('created_at', 'datetime(3)', (c) => c.notNull())
      .addColumn('completed_at', 'datetime(3)')
      .addColumn('expires_at', 'datetime(3)', (c) => c.notNull())
      .addPrimaryKeyConstraint('idempotency_keys_pk', ['scope', 'idem_key']),
  ).execute();
}

export async function down(db: MigrationDb): Promise<void> {
  await db.schema.dropTable('idempotency_keys').execute();
}
