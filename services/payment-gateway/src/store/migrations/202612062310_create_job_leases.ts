import { type MigrationDb, tableOptions } from './_schema-kit.ts';

/**
 * A named lease per background job (reconciliation): the replica whose row is unexpired holds the job,
 * so several gateways on one database run each piece of periodic work once.
 */
export async function up(db: MigrationDb): Promise<void> {
  await tableOptions(
    db,
    db.schema
      .createTable('job_leases')
      .addColumn('name', 'varchar(64)', (c) => c.primaryKey().notNull())
      .addColumn('holder', 'varchar(128)', (c) => c.notNull())
      .addColumn('expires_at', 'datetime(3)', (c) => c.notNull())
      .addColumn('updated_at', 'datetime(3)', (c) => c.notNull()),
  ).execute();
}

export async function down(db: MigrationDb): Promise<void> {
  await db.schema.dropTable('job_leases').execute();
}
