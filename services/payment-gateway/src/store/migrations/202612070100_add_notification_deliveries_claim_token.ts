import type { MigrationDb } from './_schema-kit.ts';

/**
 * Who holds a delivery's claim: a random token per claim, so a sender can claim several deliveries
 * in one UPDATE and still tell which of them it won (claimed_until alone could be the same instant
 * for two replicas). NULL whenever claimed_until is.
 */
export async function up(db: MigrationDb): Promise<void> {
  await db.schema.alterTable('notification_deliveries').addColumn('claim_token', 'varchar(32)').execute();
}

export async function down(db: MigrationDb): Promise<void> {
  await db.schema.alterTable('notification_deliveries').dropColumn('claim_token').execute();
}
