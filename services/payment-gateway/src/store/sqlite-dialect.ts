import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import {
  CompiledQuery,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  SqliteAdapter,
  type SqliteDatabase,
  SqliteDialect,
  SqliteDriver,
} from 'kysely';

/*
 * SQLite through Node 24's built-in `node:sqlite` (no native add-on to compile, nothing to download).
 * Kysely's own SqliteDialect is written against better-sqlite3's shape; `node:sqlite` differs only in
 * taking parameters spread instead of as an array and in telling readers apart by `columns()`, so a
 * ten-line wrapper is the whole "driver".
 *
 * Two deliberate changes to Kysely's SQLite behaviour:
 * - Every transaction starts with BEGIN IMMEDIATE, so it takes SQLite's write lock up front. A
 *   transaction that reads a payment and then writes it can then never be overtaken by another writer
 *   (a deferred BEGIN would take only a shared lock and fail with SQLITE_BUSY on upgrade). Inside one
 *   process Kysely already funnels everything through one connection, so a second transaction waits
 *   until the first commits; across processes (two `migrate` runs) the busy timeout makes it wait.
 * - Migrations run in one transaction: SQLite has transactional DDL, and with BEGIN IMMEDIATE the
 *   whole migration set is atomic and serialised against a second instance migrating the same file.
 */

/** How long a connection waits for another process's write lock before SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 10_000;

function wrapNodeSqlite(db: DatabaseSync): SqliteDatabase {
  return {
    close: () => db.close(),
    prepare(sqlText) {
      const statement = db.prepare(sqlText);
      const args = (parameters: ReadonlyArray<unknown>) => parameters as SQLInputValue[];
      return {
        reader: statement.columns().length > 0,
        all: (parameters) => statement.all(...args(parameters)),
        run: (parameters) => statement.run(...args(parameters)),
        iterate: (parameters) => statement.iterate(...args(parameters)),
      };
    },
  };
}

class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class NodeSqliteDialect extends SqliteDialect {
  readonly #open: () => SqliteDatabase;
  constructor(open: () => SqliteDatabase) {
    super({ database: async () => open() });
    this.#open = open;
  }
  override createDriver(): Driver {
    const open = this.#open;
    return new ImmediateSqliteDriver({ database: async () => open() });
  }
  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}

/** A Kysely dialect for a SQLite file (created with its folder if missing) or `:memory:`. */
export function createNodeSqliteDialect(filename: string): SqliteDialect {
  return new NodeSqliteDialect(() => {
    const memory = filename === ':memory:';
    if (!memory) mkdirSync(dirname(filename), { recursive: true });
    const db = new DatabaseSync(filename, { timeout: BUSY_TIMEOUT_MS, enableForeignKeyConstraints: true });
    if (!memory) {
      // WAL lets readers run beside the single writer; NORMAL sync is durable across app crashes.
      db.exec('pragma journal_mode = wal');
      db.exec('pragma synchronous = normal');
    }
    return wrapNodeSqlite(db);
  });
}
