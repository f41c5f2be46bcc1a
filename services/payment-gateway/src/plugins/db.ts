import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Kysely } from 'kysely';
import { createDatabase } from '../store/create-database.ts';
import type { Database } from '../store/database.ts';
import { migrateToLatest } from '../store/migrator.ts';

declare module 'fastify' {
  interface FastifyInstance {
    db: Kysely<Database>;
  }
}

export interface DbPluginOptions {
  url: string;
  migrate: boolean;
  /** A database the caller owns (tests); it is not destroyed when the app closes. */
  db?: Kysely<Database> | undefined;
}

/** The Kysely store, one per app; migrations run here only when MIGRATE_ON_START is set. */
async function dbPlugin(app: FastifyInstance, options: DbPluginOptions) {
  const db = options.db ?? createDatabase({ url: options.url });
  if (options.migrate) await migrateToLatest(db);
  app.decorate('db', db);
  if (!options.db) app.addHook('onClose', async () => db.destroy());
}

export const db = fp(dbPlugin, { name: 'db' });
