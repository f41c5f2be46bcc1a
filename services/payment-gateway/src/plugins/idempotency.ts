import type { FastifyInstance, onSendHookHandler, preHandlerHookHandler } from 'fastify';
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
 * `Idempotent-Replayed: true`; onSend stores the answer or lets go of the key. Both are hooks of those
 * routes alone (added as each is declared), so every other request, webhooks and lookups included,
 * runs neither.
 */
async function idempotencyPlugin(app: FastifyInstance, options: IdempotencyOptions) {
  app.decorateRequest('idempotency', null);

  const claimOrReplay: preHandlerHookHandler = async (request, reply) => {
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
  };

  const finishClaim: onSendHookHandler = async (request, reply, payload) => {
    const handle = request.idempotency;
    if (!handle?.owned) return payload;
    request.idempotency = null;
    try {
      await finishKey(app.db, handle, reply.statusCode, parsePayload(payload));
    } catch (err) {
      request.log.error({ err, idempotencyKey: handle.key }, 'could not finish idempotency record');
    }
    return payload;
  };

  // First among the route's own hooks, as hooks of the whole app would run.
  app.addHook('onRoute', (route) => {
    if (!route.config?.idempotent) return;
    route.preHandler = [claimOrReplay, ...[route.preHandler ?? []].flat()];
    route.onSend = [finishClaim, ...[route.onSend ?? []].flat()];
  });
}

export const idempotency = fp(idempotencyPlugin, { name: 'idempotency', dependencies: ['db'] });
