import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { claimKey, finishKey, type IdempotencyHandle, type IdempotencyOptions } from '../idempotency/key.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Honour the `Idempotency-Key` header on this route. */
    idempotent?: boolean;
  }
  interface FastifyRequest {
    idempotency: IdempotencyHandle | null;
  }
}

function parsePayload(payload: unknown): unknown {
  if (typeof payload !== 'string') return payload ?? null;
  try {
    return JSON.parse(payload);
  } catch {
    return payload;
  }
}

/**
 * `Idempotency-Key` on routes flagged `config: { idempotent: true }` (README: Idempotency-Key; the
 * rules are in src/idempotency/): preHandler claims the key or replays the stored answer with
 * `Idempotent-Replayed: true`; onSend stores the answer or lets go of the key.
 */
async function idempotencyPlugin(app: FastifyInstance, options: IdempotencyOptions) {
  app.decorateRequest('idempotency', null);

  app.addHook('preHandler', async (request, reply) => {
    if (!request.routeOptions.config.idempotent) return;
    const header = request.headers['idempotency-key'];
    if (header === undefined) return;
    const key = Array.isArray(header) ? header[0] : header;
    const claim = await claimKey(app.db, options, {
      scope: request.caller?.name ?? 'anonymous',
      key,
      method: request.method,
      url: request.url,
      body: request.body,
    });
    if (claim.kind === 'run') {
      if (claim.takenOver) {
        request.log.warn({ idempotencyKey: key }, 'idempotency key taken over: its holder died in flight');
      }
      request.idempotency = claim.handle;
      return;
    }
    request.log.info({ idempotencyKey: key, status: claim.status }, 'idempotent replay');
    reply.header('idempotent-replayed', 'true');
    if (claim.status >= 400) reply.type('application/problem+json');
    return reply.code(claim.status).send(claim.body);
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const handle = request.idempotency;
    if (!handle?.owned) return payload;
    request.idempotency = null;
    try {
      await finishKey(app.db, handle, reply.statusCode, parsePayload(payload));
    } catch (err) {
      request.log.error({ err, idempotencyKey: handle.key }, 'could not finish idempotency record');
    }
    return payload;
  });
}

export const idempotency = fp(idempotencyPlugin, { name: 'idempotency', dependencies: ['db'] });
