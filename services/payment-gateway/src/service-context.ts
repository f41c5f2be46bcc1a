import type { PortOneClient } from '@repo/portone-client';
import type { Clock } from '@repo/service-kit';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { CancelTurns } from './cancel-turns.ts';
import type { Config } from './config.ts';
import type { Database } from './store/database.ts';
import type { StoredSnapshots } from './stored-snapshots.ts';

/** What route services need, and nothing of Fastify: the narrow interface they depend on. */
export interface ServiceContext {
  db: Kysely<Database>;
  portone: PortOneClient;
  clock: Clock;
  config: Config;
  log: FastifyBaseLogger;
  cancelTurns: CancelTurns;
  storedSnapshots: StoredSnapshots;
}

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    clock: Clock;
    cancelTurns: CancelTurns;
    storedSnapshots: StoredSnapshots;
  }
}

/** The context for one request: its logger carries the request id. */
export function contextOf(app: FastifyInstance, request?: FastifyRequest): ServiceContext {
  return {
    db: app.db,
    portone: app.portone,
    clock: app.clock,
    config: app.config,
    log: request?.log ?? app.log,
    cancelTurns: app.cancelTurns,
    storedSnapshots: app.storedSnapshots,
  };
}
