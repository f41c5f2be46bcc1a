import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Kysely } from 'kysely';
import { createDatabase } from '../store/create-database.ts';
import { type Database, dialectOf } from '../store/database.ts';
import { migrateToLatest } from '../store/migrator.ts';

declare module 'fastify' {
  interface FastifyInstance {
    db: Kysely<Database>;
    /**
     * A pool of its own (MySQL; the same store on SQLite) for short autocommit writes made while a
     * request holds a transaction on `db`, such as an Idempotency-Key checkpoint under a payment's
     * row lock: on `db` they could wait for a connection held by transactions queued on that lock.
     */
    sideDb: Kysely<Database>;
  }
}

export interface DbPluginOptions {
  url: string;
  migrate: boolean;
  /** A database the caller owns (tests); it is not destroyed when the app closes. */
  db?: Kysely<Database> | undefined;
}

const SIDE_POOL_SIZE = 2;

/** The Kysely store, one per app; migrations run here only when MIGRATE_ON_START is set. */
async function dbPlugin(app: FastifyInstance, options: DbPluginOptions) {
  const db = options.db ?? createDatabase({ url: options.url });
  if (options.migrate) await migrateToLatest(db);
  app.decorate('db', db);
  if (!options.db) app.addHook('onClose', async () => db.destroy());
  if (dialectOf(db) === 'mysql') {
    const sideDb = createDatabase({ url: options.url, connectionLimit: SIDE_POOL_SIZE });
    app.decorate('sideDb', sideDb);
    app.addHook('onClose', async () => sideDb.destroy());
  } else {
    app.decorate('sideDb', db);
  }
}

export const db = fp(dbPlugin, { name: 'db' });
