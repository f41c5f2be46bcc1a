import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import pRetry, { type RetryContext } from 'p-retry';

/** Exponential backoff with jitter (p-retry), bounded by a count and an overall deadline. */
export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  minTimeoutMs: number;
  maxTimeoutMs: number;
  /** Overall deadline for retrying; `Retry-After` waits beyond it end the retries. */
  maxRetryTimeMs: number;
}

export interface WithRetriesOptions {
  policy: RetryPolicy;
  signal?: AbortSignal | undefined;
  /** Whether this failure may be retried: transient and safe to repeat. Nothing else is retried. */
  isRetryable: (error: unknown) => boolean;
  /** The wait the server asked for (`Retry-After`), in milliseconds. */
  retryAfterMs?: (error: unknown) => number | undefined;
}

/**
 * Runs `attemptOnce` with p-retry: one retry layer per call path, deciding from typed errors. The
 * wait before a retry is max(backoff, Retry-After); a Retry-After past the deadline ends retrying.
 */
export async function withRetries<T>(
  attemptOnce: (attempt: number) => Promise<T>,
  options: WithRetriesOptions,
): Promise<T> {
  const { policy, signal } = options;
  const started = performance.now();
  const shouldRetry = async ({ error, retryDelay }: RetryContext): Promise<boolean> => {
    if (!options.isRetryable(error)) return false;
    const retryAfterMs = options.retryAfterMs?.(error);
    if (retryAfterMs !== undefined) {
      const remaining = policy.maxRetryTimeMs - (performance.now() - started);
      // The server asked for a wait beyond the deadline: give up now rather than sleep and fail anyway.
      if (retryAfterMs > remaining) return false;
      // p-retry still waits its own backoff after this, so the total is max(Retry-After, backoff).
      const extra = retryAfterMs - retryDelay;
      if (extra > 0) await sleep(extra, undefined, signal ? { signal } : undefined);
    }
    return true;
  };
  return pRetry(attemptOnce, {
    retries: policy.retries,
    factor: 2,
    minTimeout: policy.minTimeoutMs,
    maxTimeout: policy.maxTimeoutMs,
    maxRetryTime: policy.maxRetryTimeMs,
    randomize: true,
    signal,
    shouldRetry,
  });
}
