import type { PortOneClient } from '@repo/portone-client';
import type { Clock } from '@repo/service-kit';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { CancelTurns } from './cancel-turns.ts';
import type { Config } from './config.ts';
import { type IdempotencyState, idempotencyState } from './idempotency/key.ts';
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

/** A request's context: handlers get everything from it, its Idempotency-Key's state included. */
export interface RequestContext extends ServiceContext {
  idempotency: IdempotencyState;
}

/** The context of a background job, logging as `log`. */
export function jobContext(app: FastifyInstance, log: FastifyBaseLogger): ServiceContext {
  return {
    db: app.db,
    portone: app.portone,
    clock: app.clock,
    config: app.config,
    log,
    cancelTurns: app.cancelTurns,
    storedSnapshots: app.storedSnapshots,
  };
}

/** The context for one request, built once per handler: its logger carries the request id. */
export function contextOf(app: FastifyInstance, request: FastifyRequest): RequestContext {
  return { ...jobContext(app, request.log), idempotency: idempotencyState(app.db, request.idempotency) };
}
