import {
  IdempotencyInFlightError,
  IdempotencyKeyInvalidError,
  IdempotencyMismatchError,
  IdempotentCancelConflictError,
  OutcomeUnknownError,
} from '../errors.ts';
import type { Db } from '../store/database.ts';
import {
  abandonIdempotent,
  beginIdempotent,
  completeIdempotent,
  purgeExpiredIdempotency,
  saveIdempotencyCheckpoint,
} from '../store/idempotency.repository.ts';
import { requestHash } from './request-hash.ts';

/**
 * How a charge request may proceed, decided by its Idempotency-Key:
 * - `charge`: a new request; send the charge.
 * - `lookup-first`: the key was taken over from a request that died holding it (its lease ran out);
 *   that request may have charged. Look the merchant_uid up; send the charge only when PortOne has no
 *   record of it (the dead request's call is long over: the lease outlasts any request).
 * - `lookup-only`: a previous attempt lost PortOne's answer; never send the charge again.
 */
export type ChargeMode = 'charge' | 'lookup-first' | 'lookup-only';

/** A request's claim on its Idempotency-Key, from the preHandler hook to the answer. */
export interface IdempotencyHandle {
  scope: string;
  key: string;
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

export interface IdempotencyOptions {
  /** Key of the request hash (idempotencyHashKey). */
  hashKey: Uint8Array;
  ttlSeconds: number;
  /** How long an in-flight key stays with its request before a retry may take it over. */
  leaseSeconds: number;
}

/** The request a key is claimed for: `scope` is the caller (API key name). */
export interface KeyedRequest {
  scope: string;
  key: string | undefined;
  method: string;
  url: string;
  body: unknown;
}

/** What the key says: run the handler under `handle`, or answer with the stored response. */
export type KeyClaim =
  | { kind: 'run'; handle: IdempotencyHandle; takenOver: boolean }
  | { kind: 'replay'; status: number; body: unknown };

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
/** `idempotency_keys.path` is varchar(512). */
const PATH_COLUMN_LENGTH = 512;

/**
 * Claims the key for a request (README: Idempotency-Key). Same key and same request → the stored
 * answer; a different request → 422; still running → 409; a stored "outcome unknown" → run in
 * lookup-only mode; a key whose holder died in flight → taken over, run in lookup-first mode.
 */
export async function claimKey(db: Db, options: IdempotencyOptions, request: KeyedRequest): Promise<KeyClaim> {
  const { scope, key, method } = request;
  if (!key || !KEY_PATTERN.test(key)) {
    throw new IdempotencyKeyInvalidError('Idempotency-Key must be 1-255 visible ASCII characters');
  }
  const path = request.url.split('?')[0] ?? request.url;
  // The stored path is for people reading the table; the hash below covers the whole path, so a
  // long percent-encoded path (ids may be 80 emoji) is clipped to the column, never refused.
  const result = await beginIdempotent(db, {
    scope,
    key,
    method,
    path: path.slice(0, PATH_COLUMN_LENGTH),
    bodyHash: requestHash(options.hashKey, method, path, request.body),
    ttlSeconds: options.ttlSeconds,
    leaseSeconds: options.leaseSeconds,
  });
  switch (result.kind) {
    case 'started':
    case 'taken_over': {
      const takenOver = result.kind === 'taken_over';
      const handle: IdempotencyHandle = {
        scope,
        key,
        chargeMode: takenOver ? 'lookup-first' : 'charge',
        owned: true,
        lease: result.lease,
        checkpoint: takenOver ? result.checkpoint : null,
        startedAt: result.createdAt,
      };
      return { kind: 'run', handle, takenOver };
    }
    case 'replay':
      if (!isOutcomeUnknown(result.body)) return { kind: 'replay', status: result.status, body: result.body };
      // The key keeps "outcome unknown": every retry runs in lookup-only mode, never charging.
      return {
        kind: 'run',
        takenOver: false,
        handle: {
          scope,
          key,
          chargeMode: 'lookup-only',
          owned: false,
          checkpoint: result.checkpoint,
          startedAt: result.createdAt,
        },
      };
    case 'in_flight':
      throw new IdempotencyInFlightError(`a request with Idempotency-Key "${key}" is still in flight; retry later`);
    case 'mismatch':
      throw new IdempotencyMismatchError(
        `Idempotency-Key "${key}" was already used with a different request (method, path or body)`,
      );
  }
}

/** A 2xx answer (or a kept failure) is stored for replay; any other failure lets go of the key. */
export async function finishKey(db: Db, handle: IdempotencyHandle, status: number, body: unknown): Promise<void> {
  const holder = { scope: handle.scope, key: handle.key, ...(handle.lease ? { lease: handle.lease } : {}) };
  if (status < 300 || isKeptFailure(body)) await completeIdempotent(db, { ...holder, status, body });
  else await abandonIdempotent(db, holder);
}

/**
 * For a handler that moves money without a merchant_uid to look up (a cancel): what an earlier
 * attempt with the same key recorded, and a way to record this attempt's intent before acting.
 */
export interface MoneyCheckpoint {
  previous: unknown;
  /**
   * Stores `value` on the key (durable before the money moves). A request that does not hold the key
   * (a retry of an unknown outcome) keeps the first attempt's checkpoint and stores nothing.
   */
  save(value: unknown): Promise<void>;
}

/** What a handler needs of its request's Idempotency-Key; part of the request context. */
export interface IdempotencyState {
  /** How a charge may proceed (`charge` without a key). */
  mode: ChargeMode;
  /** Since when a charge this attempt made could exist: the key's first request (store clock), else now. */
  startedAt: Date;
  /** The key's checkpoint for a cancel; undefined without a key. */
  checkpoint: MoneyCheckpoint | undefined;
}

/** The idempotency state of a request holding `handle` (null: no Idempotency-Key). */
export function idempotencyState(db: Db, handle: IdempotencyHandle | null): IdempotencyState {
  return {
    mode: handle?.chargeMode ?? 'charge',
    startedAt: handle?.startedAt ?? new Date(),
    checkpoint: handle ? moneyCheckpoint(db, handle) : undefined,
  };
}

function moneyCheckpoint(db: Db, handle: IdempotencyHandle): MoneyCheckpoint {
  return {
    previous: handle.checkpoint,
    async save(value) {
      if (!handle.owned) return;
      const saved = await saveIdempotencyCheckpoint(db, {
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

/** Deletes keys past their TTL (the sweep job); returns how many. */
export function purgeExpiredKeys(db: Db): Promise<number> {
  return purgeExpiredIdempotency(db);
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
