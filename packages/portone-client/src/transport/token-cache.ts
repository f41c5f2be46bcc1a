import { LRUCache } from 'lru-cache';

/** Where the token interceptor gets tokens from and reports a refused one. */
export interface TokenSource<K, T> {
  get(key: K, options: { signal?: AbortSignal | null | undefined; attempt?: number }): Promise<T>;
  /** The cached token for `key` when it is still usable, without waiting; undefined otherwise. */
  peek?(key: K): T | undefined;
  invalidate(key: K, stale: T): void;
}

/** A fetched token and the local-clock time from which it is refreshed before use. */
export interface FreshToken<T> {
  token: T;
  refreshAtMs: number;
}

export interface TokenCacheOptions<K, T> {
  /** Fetches a token for `key` (one request however many callers wait); throws on failure. */
  fetch: (key: K, attempt: number) => Promise<FreshToken<T>>;
  /** The cache key of `key`: everything that decides which token it gets (never a raw secret). */
  keyOf: (key: K) => string;
  /** Local clock in milliseconds. */
  now: () => number;
  /** Most tokens kept (LRU). */
  max: number;
}

/**
 * Tokens by key, bounded by an LRU cache, with one in-flight request per key (single flight). A
 * caller's signal stops that caller's wait only; the shared request carries on for the others.
 */
export class TokenCache<K, T> implements TokenSource<K, T> {
  readonly #options: TokenCacheOptions<K, T>;
  readonly #cache: LRUCache<string, FreshToken<T> & object>;
  readonly #inflight = new Map<string, Promise<T>>();

  constructor(options: TokenCacheOptions<K, T>) {
    this.#options = options;
    this.#cache = new LRUCache({ max: options.max });
  }

  /** The cached token for `key` when it is not yet due for a refresh; undefined otherwise. */
  peek(key: K): T | undefined {
    const cached = this.#cache.get(this.#options.keyOf(key));
    return cached !== undefined && this.#options.now() < cached.refreshAtMs ? cached.token : undefined;
  }

  /** A usable token for `key`: the cached one, or one shared fresh request. */
  get(key: K, options: { signal?: AbortSignal | null | undefined; attempt?: number } = {}): Promise<T> {
    const cached = this.peek(key);
    if (cached !== undefined) return Promise.resolve(cached);
    const id = this.#options.keyOf(key);

    let pending = this.#inflight.get(id);
    if (pending === undefined) {
      pending = this.#refresh(id, key, options.attempt ?? 1);
      this.#inflight.set(id, pending);
    }
    return options.signal ? untilAborted(pending, options.signal) : pending;
  }

  /**
   * Drops the cached token for `key` only if it is still `stale`, the one that was refused (a
   * concurrent refresh may already have replaced it). `same` compares tokens; default: identity.
   */
  invalidate<S = T>(key: K, stale: S, same: (cached: T, stale: S) => boolean = Object.is): void {
    const id = this.#options.keyOf(key);
    const cached = this.#cache.get(id);
    if (cached !== undefined && same(cached.token, stale)) this.#cache.delete(id);
  }

  /** Number of cached tokens. */
  get size(): number {
    return this.#cache.size;
  }

  async #refresh(id: string, key: K, attempt: number): Promise<T> {
    try {
      const fresh = await this.#options.fetch(key, attempt);
      this.#cache.set(id, fresh);
      return fresh.token;
    } finally {
      this.#inflight.delete(id);
    }
  }
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
