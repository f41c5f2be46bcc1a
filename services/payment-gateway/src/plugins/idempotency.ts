import { createHmac, hkdfSync } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { ChargeAttempt, ChargeMode } from '../charge-outcome.ts';
import {
  IdempotencyInFlightError,
  IdempotencyKeyInvalidError,
  IdempotencyMismatchError,
  IdempotentCancelConflictError,
  OutcomeUnknownError,
} from '../errors.ts';
import {
  abandonIdempotent,
  beginIdempotent,
  completeIdempotent,
  saveIdempotencyCheckpoint,
} from '../store/idempotency.repository.ts';

export interface IdempotencyHandle {
  scope: string;
  key: string;
  /**
   * How a charge handler may proceed: `lookup-only` when a previous attempt with this key lost
   * PortOne's answer (never send it again), `lookup-first` when the key was taken over from a request
   * that died holding it (look up, send only if PortOne has no record), else `charge`.
   */
  chargeMode: ChargeMode;
  /** Whether this request holds the key (and must complete or abandon it). */
  owned: boolean;
  /** The lease this request holds the key under (it fences out a holder the key was taken from). */
  lease?: Date;
  /** What an earlier attempt with this key recorded before it moved money (null when none). */
  checkpoint: unknown;
  /** When the first request with this key began (a lost charge it made cannot be older). */
  startedAt: Date;
}

/** How a charge handler proceeds, and since when a charge it made could exist (store clock). */
export function chargeAttempt(request: FastifyRequest): ChargeAttempt {
  const handle = request.idempotency;
  return { mode: handle?.chargeMode ?? 'charge', startedAt: handle?.startedAt ?? new Date() };
}

/**
 * For a handler that moves money without a merchant_uid to look up (a cancel): what an earlier
 * attempt with the same key recorded, and a way to record this attempt's intent before acting.
 */
export interface MoneyCheckpoint {
  previous: unknown;
  /**
   * Stores `value` on the key (an autocommit write: durable before the money moves). A request that
   * does not hold the key (a retry of an unknown outcome) keeps the first attempt's checkpoint and
   * stores nothing.
   */
  save(value: unknown): Promise<void>;
}

/** The checkpoint of this request's Idempotency-Key; undefined without a key. */
export function moneyCheckpoint(request: FastifyRequest): MoneyCheckpoint | undefined {
  const handle = request.idempotency;
  if (!handle) return undefined;
  return {
    previous: handle.checkpoint,
    async save(value) {
      if (!handle.owned) return;
      const saved = await saveIdempotencyCheckpoint(request.server.db, {
        scope: handle.scope,
        key: handle.key,
        ...(handle.lease ? { lease: handle.lease } : {}),
        checkpoint: value,
      });
      // The key was taken over (this request outlived its lease): another request now owns it.
      if (!saved) throw new IdempotencyInFlightError('the Idempotency-Key was taken over by a retry of this request');
    },
  };
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
  /** Key of the request hash (idempotencyHashKey). */
  hashKey: Uint8Array;
  ttlSeconds: number;
  /** How long an in-flight key stays with its request before a retry may take it over. */
  leaseSeconds: number;
}

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
/** `idempotency_keys.path` is varchar(512). */
const PATH_COLUMN_LENGTH = 512;

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

/**
 * What identifies a request under its key: method, path and canonical body, under HMAC-SHA256. Keyed,
 * because a body may carry card data: a plain hash would let anyone who reads `idempotency_keys` test
 * guesses of a card number (few enough to try them all) against it.
 */
export function requestHash(hashKey: Uint8Array, method: string, path: string, body: unknown): string {
  return createHmac('sha256', hashKey)
    .update(`${method}\n${path}\n${canonical(body ?? null)}`)
    .digest('hex');
}

/**
 * The request-hash key: IDEMPOTENCY_HASH_KEY, else one derived (HKDF) from the PortOne secret, which
 * the database does not hold either. Changing it makes stored keys mismatch their retries (422).
 */
export function idempotencyHashKey(config: { IDEMPOTENCY_HASH_KEY?: string | undefined; PORTONE_IMP_SECRET: string }) {
  if (config.IDEMPOTENCY_HASH_KEY) return new Uint8Array(Buffer.from(config.IDEMPOTENCY_HASH_KEY, 'utf8'));
  return new Uint8Array(
    hkdfSync('sha256', config.PORTONE_IMP_SECRET, '', 'payment-gateway idempotency request hash', 32),
  );
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
 * caller (API key name); the request is identified by a keyed hash of method, path and body. Same key and
 * same request → the stored answer is replayed with `Idempotent-Replayed: true`; a different request
 * → 422; still running → 409. A 2xx answer is stored; a failure abandons the key so a retry can run
 * — except an unknown charge outcome: that answer is stored, and every retry with the key runs the
 * handler in lookup-only mode (it asks PortOne by merchant_uid and never charges). An in-flight key
 * is leased to its request; a retry after the lease ran out (the holder crashed) takes the key over
 * and a charge handler then looks the merchant_uid up before charging.
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
    // The stored path is for people reading the table; the hash below covers the whole path, so a
    // long percent-encoded path (ids may be 80 emoji) is clipped to the column, never refused.
    const storedPath = path.slice(0, PATH_COLUMN_LENGTH);
    const bodyHash = requestHash(options.hashKey, method, path, request.body);
    const result = await beginIdempotent(app.db, {
      scope,
      key,
      method,
      path: storedPath,
      bodyHash,
      ttlSeconds: options.ttlSeconds,
      leaseSeconds: options.leaseSeconds,
    });
    switch (result.kind) {
      case 'started':
        request.idempotency = {
          scope,
          key,
          chargeMode: 'charge',
          owned: true,
          lease: result.lease,
          checkpoint: null,
          startedAt: result.createdAt,
        };
        return;
      case 'taken_over':
        request.log.warn({ idempotencyKey: key }, 'idempotency key taken over: its holder died in flight');
        request.idempotency = {
          scope,
          key,
          chargeMode: 'lookup-first',
          owned: true,
          lease: result.lease,
          checkpoint: result.checkpoint,
          startedAt: result.createdAt,
        };
        return;
      case 'replay':
        if (isOutcomeUnknown(result.body)) {
          // The key keeps "outcome unknown": every retry runs in lookup-only mode, never charging.
          request.idempotency = {
            scope,
            key,
            chargeMode: 'lookup-only',
            owned: false,
            checkpoint: result.checkpoint,
            startedAt: result.createdAt,
          };
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
    const holder = { scope: handle.scope, key: handle.key, ...(handle.lease ? { lease: handle.lease } : {}) };
    try {
      if (reply.statusCode < 300 || isKeptFailure(body)) {
        await completeIdempotent(app.db, { ...holder, status: reply.statusCode, body });
      } else {
        await abandonIdempotent(app.db, holder);
      }
    } catch (err) {
      request.log.error({ err, idempotencyKey: handle.key }, 'could not finish idempotency record');
    }
    return payload;
  });
}

function codeOf(body: unknown): unknown {
  return body !== null && typeof body === 'object' ? (body as { code?: unknown }).code : undefined;
}

function isOutcomeUnknown(body: unknown): boolean {
  return codeOf(body) === OutcomeUnknownError.code;
}

/**
 * Failures the key keeps (replayed, not abandoned): an unknown outcome, and a cancel whose earlier
 * attempt cannot be told apart from someone else's change (a retry must not refund on a guess).
 */
function isKeptFailure(body: unknown): boolean {
  return isOutcomeUnknown(body) || codeOf(body) === IdempotentCancelConflictError.code;
}

export const idempotency = fp(idempotencyPlugin, { name: 'idempotency', dependencies: ['db'] });
