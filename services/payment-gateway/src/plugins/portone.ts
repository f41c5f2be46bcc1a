import { AsyncLocalStorage } from 'node:async_hooks';
import { createPortOneClient, type PortOneCallEvent, type PortOneClient } from '@repo/portone-client';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { insertPortOneCall } from '../store/portone-call.repository.ts';

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

/**
 * The PortOne client, one per app. Every HTTP attempt it makes is logged (operation, status,
 * duration, attempt, masked key — no bodies) with the id of the request that caused it, and written
 * to the audit table. The audit write never holds up the request; a failed write is logged, not
 * thrown. onClose waits for outstanding audit writes so they do not race the pool shutting down.
 */
async function portonePlugin(app: FastifyInstance, options: PortOnePluginOptions) {
  const pending = new Set<Promise<void>>();
  const log = app.log.child({ component: 'portone' });
  // The client's onCall hook knows nothing of HTTP requests; this carries the request id to it.
  const requestIds = new AsyncLocalStorage<string>();
  app.addHook('onRequest', (request, _reply, done) => requestIds.run(String(request.id), done));

  const onCall = (event: PortOneCallEvent) => {
    const reqId = requestIds.getStore();
    const line = { ...event, ...(reqId ? { reqId } : {}) };
    if (event.outcome === 'ok') log.info(line, 'portone call');
    else log.warn(line, 'portone call failed');
    const write = insertPortOneCall(app.db, { ...event, requestId: reqId ?? null })
      .then(() => undefined)
      .catch((err: unknown) =>
        log.error({ err, operation: event.operation }, 'could not record PortOne call for audit'),
      );
    pending.add(write);
    void write.finally(() => pending.delete(write));
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
    await Promise.all([...pending]);
  });
}

export const portone = fp(portonePlugin, { name: 'portone', dependencies: ['db'] });
