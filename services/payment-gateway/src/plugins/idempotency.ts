import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import {
  IdempotencyInFlightError,
  IdempotencyKeyInvalidError,
  IdempotencyMismatchError,
  OutcomeUnknownError,
} from '../errors.ts';
import { abandonIdempotent, beginIdempotent, completeIdempotent } from '../store/idempotency.repository.ts';

export interface IdempotencyHandle {
  scope: string;
  key: string;
  /**
   * The previous attempt with this key lost PortOne's answer to a charge: the handler must only look
   * the charge up by merchant_uid, never send it again.
   */
  resolveOnly: boolean;
  /** Whether this request holds the key (and must complete or abandon it). */
  owned: boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Honour the `Idempotency-Key` header on this route. */
    idempotent?: boolean;
  }
  interface FastifyRequest {
    idempotency: IdempotencyHandle | null;
  }
}

export interface IdempotencyOptions {
  ttlSeconds: number;
}

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** JSON with sorted keys, so `{a,b}` and `{b,a}` hash the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
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
 * `Idempotency-Key` for routes flagged `config: { idempotent: true }`. The key is scoped to the
 * caller (API key name); the request is identified by a hash of method, path and body. Same key and
 * same request → the stored answer is replayed with `Idempotent-Replayed: true`; a different request
 * → 422; still running → 409. A 2xx answer is stored; a failure abandons the key so a retry can run
 * — except an unknown charge outcome: that answer is stored, and every retry with the key runs the
 * handler in lookup-only mode (it asks PortOne by merchant_uid and never charges).
 */
async function idempotencyPlugin(app: FastifyInstance, options: IdempotencyOptions) {
  app.decorateRequest('idempotency', null);

  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    if (!request.routeOptions.config.idempotent) return;
    const header = request.headers['idempotency-key'];
    if (header === undefined) return;
    const key = Array.isArray(header) ? header[0] : header;
    if (!key || !KEY_PATTERN.test(key)) {
      throw new IdempotencyKeyInvalidError('Idempotency-Key must be 1-255 visible ASCII characters');
    }
    const scope = request.caller?.name ?? 'anonymous';
    const method = request.method;
    const path = request.url.split('?')[0] ?? request.url;
    const bodyHash = createHash('sha256')
      .update(`${method}\n${path}\n${canonical(request.body ?? null)}`)
      .digest('hex');
    const result = await beginIdempotent(app.db, {
      scope,
      key,
      method,
      path,
      bodyHash,
      ttlSeconds: options.ttlSeconds,
    });
    switch (result.kind) {
      case 'started':
        request.idempotency = { scope, key, resolveOnly: false, owned: true };
        return;
      case 'replay':
        if (isOutcomeUnknown(result.body)) {
          // The key keeps "outcome unknown": every retry runs in lookup-only mode, never charging.
          request.idempotency = { scope, key, resolveOnly: true, owned: false };
          return;
        }
        request.log.info({ idempotencyKey: key, status: result.status }, 'idempotent replay');
        reply.header('idempotent-replayed', 'true');
        if (result.status >= 400) reply.type('application/problem+json');
        return reply.code(result.status).send(result.body);
      case 'in_flight':
        throw new IdempotencyInFlightError(`a request with Idempotency-Key "${key}" is still in flight; retry later`);
      case 'mismatch':
        throw new IdempotencyMismatchError(
          `Idempotency-Key "${key}" was already used with a different request (method, path or body)`,
        );
    }
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const handle = request.idempotency;
    if (!handle?.owned) return payload;
    request.idempotency = null;
    const body = parsePayload(payload);
    try {
      if (reply.statusCode < 300 || isOutcomeUnknown(body)) {
        await completeIdempotent(app.db, { scope: handle.scope, key: handle.key, status: reply.statusCode, body });
      } else {
        await abandonIdempotent(app.db, { scope: handle.scope, key: handle.key });
      }
    } catch (err) {
      request.log.error({ err, idempotencyKey: handle.key }, 'could not finish idempotency record');
    }
    return payload;
  });
}

function isOutcomeUnknown(body: unknown): boolean {
  return body !== null && typeof body === 'object' && (body as { code?: unknown }).code === OutcomeUnknownError.code;
}

export const idempotency = fp(idempotencyPlugin, { name: 'idempotency', dependencies: ['db'] });
