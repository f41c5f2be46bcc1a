import { bigId, bigIdType, type MigrationDb, tableOptions } from './_schema-kit.ts';

/** One row per (event, endpoint): the delivery's state, retry schedule, claim and last attempt. */
export async function up(db: MigrationDb): Promise<void> {
  await tableOptions(
    db,
    db.schema
      .createTable('notification_deliveries')
      .addColumn('id', bigIdType(db), bigId)
      .addColumn('event_id', bigIdType(db), (c) => c.notNull())
      .addColumn('endpoint_id', 'varchar(40)', (c) => c.notNull())
      .addColumn('subject', 'varchar(80)', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', 'datetime(3)', (c) => c.notNull())
      .addColumn('claimed_until', 'datetime(3)')
      .addColumn('last_attempt_at', 'datetime(3)')
      .addColumn('last_status_code', 'integer')
      .addColumn('last_error', 'varchar(512)')
      .addColumn('delivered_at', 'datetime(3)')
      .addColumn('created_at', 'datetime(3)', (c) => c.notNull()),
  ).execute();
}

export async function down(db: MigrationDb): Promise<void> {
  await db.schema.dropTable('notification_deliveries').execute();
}
