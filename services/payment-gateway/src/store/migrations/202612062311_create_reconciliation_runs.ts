import { bigId, bigIdType, type MigrationDb, tableOptions } from './_schema-kit.ts';

/** One row per reconciliation run: who ran it, over which window, and what it found. */
export async function up(db: MigrationDb): Promise<void> {
  await tableOptions(
    db,
    db.schema
      .createTable('reconciliation_runs')
      .addColumn('id', bigIdType(db), bigId)
      .addColumn('holder', 'varchar(128)', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('started_at', 'datetime(3)', (c) => c.notNull())
      .addColumn('finished_at', 'datetime(3)')
      .addColumn('window_from', 'datetime(3)', (c) => c.notNull())
      .addColumn('window_to', 'datetime(3)', (c) => c.notNull())
      .addColumn('rechecked', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('swept', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('changed', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('discovered', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('errors', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('error', 'varchar(512)'),
  ).execute();
}

export async function down(db: MigrationDb): Promise<void> {
  await db.schema.dropTable('reconciliation_runs').execute();
}
