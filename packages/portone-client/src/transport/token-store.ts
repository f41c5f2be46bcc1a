import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Credentials } from '../credentials.ts';
import type { AccessToken } from '../schemas/auth.ts';
import { TokenCache } from './token-cache.ts';

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

/**
 * PortOne extends a token by 5 minutes when it is re-requested within its last minute; refreshing
 * inside that window keeps the same token alive instead of re-requesting in a loop.
 */
const EXTENSION_WINDOW_MS = 60_000;

/**
 * PortOne access tokens per merchant: the shared {@link TokenCache} (LRU, single flight) with
 * PortOne's expiry rules.
 *
 * Expiry comes from PortOne's own clock: the token lives `expired_at - now` seconds from when it was
 * requested by the local clock, so a skewed local clock does not matter.
 */
export class TokenStore {
  readonly #cache: TokenCache<Credentials, AccessToken>;
  readonly #now: () => number;
  /** PortOne's clock minus the local one (ms), from each merchant's last token `now` as it arrived. */
  readonly #offsets: LRUCache<string, number>;

  constructor(options: TokenStoreOptions) {
    this.#now = options.now;
    this.#offsets = new LRUCache({ max: options.max });
    this.#cache = new TokenCache({
      keyOf: cacheKey,
      now: options.now,
      max: options.max,
      fetch: async (credentials, attempt) => {
        const requestedAt = options.now();
        const token = await options.fetchToken(credentials, attempt);
        const expiresAtMs = requestedAt + (token.expired_at - token.now) * 1000;
        let refreshAtMs = expiresAtMs - options.refreshMarginMs;
        if (refreshAtMs <= requestedAt) {
          // A margin as long as the lifetime (or a token handed back already inside the margin) would
          // refresh on every call; fall back to refreshing inside PortOne's extension window.
          refreshAtMs = Math.max(requestedAt, expiresAtMs - EXTENSION_WINDOW_MS / 2);
        }
        this.#offsets.set(cacheKey(credentials), token.now * 1000 - options.now());
        return { token, refreshAtMs };
      },
    });
  }

  /**
   * A usable token for these credentials: the cached one, or one shared fresh request. A caller's
   * signal stops that caller's wait only; the shared request carries on for the others.
   */
  get(credentials: Credentials, options: { signal?: AbortSignal | null | undefined; attempt?: number } = {}) {
    return this.#cache.get(credentials, options);
  }

  /** The cached token when it is not yet due for a refresh, without waiting; undefined otherwise. */
  peek(credentials: Credentials): AccessToken | undefined {
    return this.#cache.peek(credentials);
  }

  /** Drops the cached token only if it is still `accessToken` (a concurrent refresh may have replaced it). */
  invalidate(credentials: Credentials, accessToken: string): void {
    this.#cache.invalidate(credentials, accessToken, (cached, stale) => cached.access_token === stale);
  }

  /**
   * PortOne's clock (UNIX seconds) as of the last token fetched for these credentials: the local clock
   * plus the offset seen then. Undefined before any token; `get()` first.
   */
  portoneNow(credentials: Credentials): number | undefined {
    const offsetMs = this.#offsets.get(cacheKey(credentials));
    return offsetMs === undefined ? undefined : Math.floor((this.#now() + offsetMs) / 1000);
  }

  /** Number of merchants with a cached token. */
  get size(): number {
    return this.#cache.size;
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
