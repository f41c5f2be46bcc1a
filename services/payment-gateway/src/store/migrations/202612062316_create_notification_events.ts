import { bigId, bigIdType, longText, type MigrationDb, tableOptions } from './_schema-kit.ts';

/** The outbox: one row per change of a stored payment or schedule, written in the change's transaction. */
export async function up(db: MigrationDb): Promise<void> {
  await tableOptions(
    db,
    db.schema
      .createTable('notification_events')
      .addColumn('id', bigIdType(db), bigId)
      .addColumn('message_id', 'varchar(40)', (c) => c.notNull())
      .addColumn('type', 'varchar(64)', (c) => c.notNull())
      .addColumn('subject', 'varchar(80)', (c) => c.notNull())
      .addColumn('cause', 'varchar(32)', (c) => c.notNull())
      .addColumn('payload', longText, (c) => c.notNull())
      .addColumn('created_at', 'datetime(3)', (c) => c.notNull()),
  ).execute();
}

export async function down(db: MigrationDb): Promise<void> {
  await db.schema.dropTable('notification_events').execute();
}
