import { dropIndex, isMysql, type MigrationDb } from './_schema-kit.ts';

export async function up(db: MigrationDb): Promise<void> {
  await db.schema
    .createIndex('payment_cancels_imp_uid_idx')
    .on('payment_cancels')
    .columns(['imp_uid', 'cancelled_at'])
    .execute();
}

export async function down(db: MigrationDb): Promise<void> {
  // InnoDB adopted this index for the imp_uid foreign key and refuses to drop it; on MySQL it goes
  // away with the table in the previous migration's down.
  if (isMysql(db)) return;
  await dropIndex(db, 'payment_cancels_imp_uid_idx', 'payment_cancels');
}
