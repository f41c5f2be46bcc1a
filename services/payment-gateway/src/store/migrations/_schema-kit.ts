import { type ColumnDefinitionBuilder, type CreateTableBuilder, type Kysely, MysqlAdapter, sql } from 'kysely';

/*
 * Dialect switches shared by the migration files. Migrations are frozen history: never change what a
 * helper here emits; add a new helper instead. Imports nothing from the application.
 */

export type MigrationDb = Kysely<unknown>;

export function isMysql(db: MigrationDb): boolean {
  return db.getExecutor().adapter instanceof MysqlAdapter;
}

/**
 * MySQL table options: InnoDB, utf8mb4, and binary collation so keys compare exactly (case-sensitive),
 * the way SQLite compares them.
 */
export function tableOptions<TB extends string, C extends string>(
  db: MigrationDb,
  builder: CreateTableBuilder<TB, C>,
): CreateTableBuilder<TB, C> {
  return isMysql(db) ? builder.modifyEnd(sql`engine=InnoDB default charset=utf8mb4 collate=utf8mb4_bin`) : builder;
}

/** BIGINT UNSIGNED AUTO_INCREMENT on MySQL; SQLite's rowid alias INTEGER PRIMARY KEY AUTOINCREMENT. */
export function bigIdType(db: MigrationDb) {
  return isMysql(db) ? sql`bigint unsigned` : sql`integer`;
}

export function bigId(col: ColumnDefinitionBuilder): ColumnDefinitionBuilder {
  return col.primaryKey().autoIncrement().notNull();
}

/** Up to 16 MiB of text on MySQL (plain TEXT stops at 64 KiB); SQLite text is unbounded. */
export const longText = sql`mediumtext`;

/** DROP INDEX: MySQL names the table (`drop index x on t`); SQLite index names are schema-wide. */
export async function dropIndex(db: MigrationDb, index: string, table: string): Promise<void> {
  const builder = db.schema.dropIndex(index);
  await (isMysql(db) ? builder.on(table) : builder).execute();
}
