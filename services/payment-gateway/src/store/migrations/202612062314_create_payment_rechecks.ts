import { type MigrationDb, tableOptions } from './_schema-kit.ts';

/**
 * Backoff state of non-final payments being re-fetched by reconciliation: when each is due next and
 * how often it was already checked. A payment without a row is due at once; final ones lose theirs.
 */
export async function up(db: MigrationDb): Promise<void> {
  await tableOptions(
    db,
    db.schema
      .createTable('payment_rechecks')
      .addColumn('imp_uid', 'varchar(32)', (c) => c.primaryKey().notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_check_at', 'datetime(3)', (c) => c.notNull())
      .addColumn('last_checked_at', 'datetime(3)', (c) => c.notNull()),
  ).execute();
}

export async function down(db: MigrationDb): Promise<void> {
  await db.schema.dropTable('payment_rechecks').execute();
}
