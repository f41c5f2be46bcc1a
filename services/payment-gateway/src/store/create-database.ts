import { resolve } from 'node:path';
import { CompiledQuery, Kysely, MysqlDialect } from 'kysely';
import { createPool } from 'mysql2';
import type { Database } from './database.ts';
import { createNodeSqliteDialect } from './sqlite-dialect.ts';

export interface DatabaseConfig {
  /**
   * `mysql://user:pass@host:3306/db` (or `mariadb://`; `?socket=/path` for a unix socket),
   * `sqlite:relative/or/absolute/path.sqlite`, or `sqlite::memory:`.
   */
  url: string;
  /** mysql2 pool size (default 10). */
  connectionLimit?: number;
}

/**
 * Opens the store with the dialect the URL names. The returned Kysely owns the pool or file:
 * `await db.destroy()` closes it. Driver settings are chosen so both dialects return the same
 * JavaScript types (see codec.ts): DECIMAL as exact strings, DATETIME as UTC strings, BIGINT as
 * numbers while they fit.
 */
export function createDatabase(config: DatabaseConfig): Kysely<Database> {
  const { url } = config;
  if (url.startsWith('sqlite:')) {
    const target = url.slice('sqlite:'.length);
    if (target === '') throw new Error('DATABASE_URL sqlite: needs a path or :memory:');
    const filename = target === ':memory:' ? ':memory:' : resolve(target);
    return new Kysely<Database>({ dialect: createNodeSqliteDialect(filename) });
  }
  if (url.startsWith('mysql://') || url.startsWith('mariadb://')) {
    return new Kysely<Database>({ dialect: mysqlDialect(url, config.connectionLimit ?? 10) });
  }
  throw new Error('DATABASE_URL must start with mysql://, mariadb:// or sqlite:');
}

function mysqlDialect(url: string, connectionLimit: number): MysqlDialect {
  const parsed = new URL(url);
  const socketPath = parsed.searchParams.get('socket') ?? undefined;
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || undefined;
  const pool = createPool({
    ...(socketPath ? { socketPath } : { host: parsed.hostname, port: Number(parsed.port || 3306) }),
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database,
    connectionLimit,
    charset: 'utf8mb4',
    // Types, decided once (codec.ts converts): DECIMAL stays an exact string, DATETIME a UTC string,
    // BIGINT a number while it fits in 2^53.
    decimalNumbers: false,
    dateStrings: true,
    timezone: 'Z',
    supportBigNumbers: true,
    bigNumberStrings: false,
  });
  return new MysqlDialect({
    pool,
    // Server-side NOW()/TIMESTAMP conversions in UTC too, so nothing depends on the host's zone.
    onCreateConnection: async (connection) => {
      await connection.executeQuery(CompiledQuery.raw("set time_zone = '+00:00'"));
    },
  });
}
