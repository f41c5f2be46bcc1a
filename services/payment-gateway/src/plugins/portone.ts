import { AsyncLocalStorage } from 'node:async_hooks';
import { createPortOneClient, type PortOneCallEvent, type PortOneClient } from '@repo/portone-client';
import { Counter } from '@repo/service-kit';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { insertPortOneCalls, type PortOneCallInput } from '../store/portone-call.repository.ts';

declare module 'fastify' {
  interface FastifyInstance {
    portone: PortOneClient;
  }
}

export interface PortOnePluginOptions {
  baseUrl: string;
  impKey: string;
  impSecret: string;
  tier?: string | undefined;
  timeoutMs: number;
  retries: number;
}

/** Audit rows are written in batches: at most this long after the call, or at this many rows. */
const AUDIT_FLUSH_MS = 20;
const AUDIT_BATCH = 200;

/**
 * The PortOne client, one per app. Every HTTP attempt it makes is logged at once (operation, status,
 * duration, attempt, masked key — no bodies) with the id of the request that caused it, and written
 * to the audit table in small batches: one commit per batch instead of one per call, which is what
 * a read-through lookup would otherwise pay for. The audit write never holds up the request; a failed
 * write is logged, not thrown. onClose flushes what is queued before the pool shuts down.
 */
async function portonePlugin(app: FastifyInstance, options: PortOnePluginOptions) {
  const queue: PortOneCallInput[] = [];
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();
  const flush = (): Promise<void> => {
    clearTimeout(timer);
    timer = undefined;
    const batch = queue.splice(0, queue.length);
    if (batch.length > 0) {
      writing = writing
        .then(() => insertPortOneCalls(app.db, batch))
        .catch((err: unknown) => log.error({ err, calls: batch.length }, 'could not record PortOne calls for audit'));
    }
    return writing;
  };
  const log = app.log.child({ component: 'portone' });
  // The client's onCall hook knows nothing of HTTP requests; this carries the request id to it.
  const requestIds = new AsyncLocalStorage<string>();
  app.addHook('onRequest', (request, _reply, done) => requestIds.run(String(request.id), done));

  // /metrics: every attempt by operation and outcome, retries, and token fetches (refreshes).
  const registers = [app.metricsRegistry];
  const calls = new Counter({
    name: 'portone_calls_total',
    help: 'HTTP attempts to PortOne, by operation and outcome',
    labelNames: ['operation', 'outcome'],
    registers,
  });
  const retries = new Counter({
    name: 'portone_call_retries_total',
    help: 'PortOne attempts after the first for one call, by operation',
    labelNames: ['operation'],
    registers,
  });
  const tokenRefreshes = new Counter({
    name: 'portone_token_refreshes_total',
    help: 'Access tokens fetched from PortOne, by outcome',
    labelNames: ['outcome'],
    registers,
  });

  const onCall = (event: PortOneCallEvent) => {
    calls.inc({ operation: event.operation, outcome: event.outcome });
    if (event.attempt > 1) retries.inc({ operation: event.operation });
    if (event.operation === 'getToken') tokenRefreshes.inc({ outcome: event.outcome });
    const reqId = requestIds.getStore();
    const line = { ...event, ...(reqId ? { reqId } : {}) };
    if (event.outcome === 'ok') log.info(line, 'portone call');
    else log.warn(line, 'portone call failed');
    queue.push({ ...event, requestId: reqId ?? null });
    if (queue.length >= AUDIT_BATCH) void flush();
    else timer ??= setTimeout(flush, AUDIT_FLUSH_MS);
  };

  const client = createPortOneClient({
    baseUrl: options.baseUrl,
    credentials: {
      impKey: options.impKey,
      impSecret: options.impSecret,
      ...(options.tier ? { tier: options.tier } : {}),
    },
    timeouts: { headersMs: options.timeoutMs, bodyMs: options.timeoutMs },
    retry: { retries: options.retries },
    onCall,
  });
  app.decorate('portone', client);
  app.addHook('onClose', async () => {
    await client.close();
    await flush();
  });
}

export const portone = fp(portonePlugin, { name: 'portone', dependencies: ['db', 'metrics'] });
