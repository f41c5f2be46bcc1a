import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Credentials } from '../credentials.ts';
import type { AccessToken } from '../schemas/auth.ts';

/** Requests a fresh token from PortOne (`POST /users/getToken`); throws typed client errors. */
export type FetchToken = (credentials: Credentials, attempt: number) => Promise<AccessToken>;

export interface TokenStoreOptions {
  fetchToken: FetchToken;
  /** Local clock in milliseconds. */
  now: () => number;
  /** Refresh this long before the token expires. */
  refreshMarginMs: number;
  /** Most merchants whose tokens are kept. */
  max: number;
}

interface CachedToken {
  token: AccessToken;
  /** Local-clock time from which the token is refreshed before use. */
  refreshAtMs: number;
  /** PortOne's clock minus the local one, from the token's `now` as it arrived. */
  offsetMs: number;
}

/**
 * PortOne extends a token by 5 minutes when it is re-requested within its last minute; refreshing
 * inside that window keeps the same token alive instead of re-requesting in a loop.
 */
const EXTENSION_WINDOW_MS = 60_000;

/**
 * Access tokens per merchant, bounded by an LRU cache, with one in-flight request per merchant.
 *
 * Expiry comes from PortOne's own clock: the token lives `expired_at - now` seconds from when it was
 * requested by the local clock, so a skewed local clock does not matter.
 */
export class TokenStore {
  readonly #options: TokenStoreOptions;
  readonly #cache: LRUCache<string, CachedToken>;
  readonly #inflight = new Map<string, Promise<AccessToken>>();

  constructor(options: TokenStoreOptions) {
    this.#options = options;
    this.#cache = new LRUCache({ max: options.max });
  }

  /**
   * A usable token for these credentials: the cached one, or one shared fresh request. A caller's
   * signal stops that caller's wait only; the shared request carries on for the others.
   */
  get(credentials: Credentials, options: { signal?: AbortSignal | null | undefined; attempt?: number } = {}) {
    const key = cacheKey(credentials);
    const cached = this.#cache.get(key);
    if (cached !== undefined && this.#options.now() < cached.refreshAtMs) return Promise.resolve(cached.token);

    let pending = this.#inflight.get(key);
    if (pending === undefined) {
      pending = this.#refresh(key, credentials, options.attempt ?? 1);
      this.#inflight.set(key, pending);
    }
    return options.signal ? untilAborted(pending, options.signal) : pending;
  }

  /** Drops the cached token only if it is still `accessToken` (a concurrent refresh may have replaced it). */
  invalidate(credentials: Credentials, accessToken: string): void {
    const key = cacheKey(credentials);
    if (this.#cache.get(key)?.token.access_token === accessToken) this.#cache.delete(key);
  }

  /**
   * PortOne's clock (UNIX seconds) as of the last token fetched for these credentials: the local clock
   * plus the offset seen then. Undefined before any token; `get()` first.
   */
  portoneNow(credentials: Credentials): number | undefined {
    const cached = this.#cache.get(cacheKey(credentials));
    return cached && Math.floor((this.#options.now() + cached.offsetMs) / 1000);
  }

  /** Number of merchants with a cached token. */
  get size(): number {
    return this.#cache.size;
  }

  async #refresh(key: string, credentials: Credentials, attempt: number): Promise<AccessToken> {
    const requestedAt = this.#options.now();
    try {
      const token = await this.#options.fetchToken(credentials, attempt);
      const expiresAtMs = requestedAt + (token.expired_at - token.now) * 1000;
      let refreshAtMs = expiresAtMs - this.#options.refreshMarginMs;
      if (refreshAtMs <= requestedAt) {
        // A margin as long as the lifetime (or a token handed back already inside the margin) would
        // refresh on every call; fall back to refreshing inside PortOne's extension window.
        refreshAtMs = Math.max(requestedAt, expiresAtMs - EXTENSION_WINDOW_MS / 2);
      }
      this.#cache.set(key, { token, refreshAtMs, offsetMs: token.now * 1000 - this.#options.now() });
      return token;
    } finally {
      this.#inflight.delete(key);
    }
  }
}

// Keyed by imp_key plus a digest of the secret, so a per-call override with the same key but another
// secret never borrows a token it could not have obtained.
const keys = new WeakMap<Credentials, string>();
function cacheKey(credentials: Credentials): string {
  let key = keys.get(credentials);
  if (key === undefined) {
    const digest = createHash('sha256').update(credentials.impSecret).digest('base64url').slice(0, 16);
    key = `${credentials.impKey}\u0000${digest}`;
    keys.set(credentials, key);
  }
  return key;
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
