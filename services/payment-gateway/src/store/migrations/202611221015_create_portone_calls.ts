import { bigId, bigIdType, type MigrationDb, tableOptions } from './_schema-kit.ts';

export async function up(db: MigrationDb): Promise<void> {
  await tableOptions(
    db,
    db.schema
      .createTable('portone_calls')
      .addColumn('id', bigIdType(db), bigId)
      .addColumn('at', 'datetime(3)', (c) => c.notNull())
      .addColumn('operation', 'varchar(64)', (c) => c.notNull())
      .addColumn('method', 'varchar(10)', (c) => c.notNull())
      .addColumn('path_pattern', 'varchar(255)', (c) => c.notNull())
      .addColumn('http_status', 'integer')
      .addColumn('portone_code', 'integer')
      .addColumn('duration_ms', 'integer', (c) => c.notNull())
      .addColumn('attempt', 'integer', (c) => c.notNull())
      .addColumn('imp_key_masked', 'varchar(32)')
      .addColumn('outcome', 'varchar(32)', (c) => c.notNull())
      .addColumn('error_class', 'varchar(64)')
      .addColumn('request_id', 'varchar(128)'),
  ).execute();
}

export async function down(db: MigrationDb): Promise<void> {
  await db.schema.dropTable('portone_calls').execute();
}
