/**
 * The HTTP transport the PortOne client is built on, for any token-authenticated API on undici:
 * `@repo/portone-client/transport`. The docker-agent uses it for the Docker Registry HTTP API.
 *
 * - {@link authInterceptor}: injects a cached token, single-flight refresh, one replay on 401;
 * - {@link TokenCache}: bounded (lru-cache) tokens per key, one in-flight request per key;
 * - {@link callObserver}: one event per HTTP attempt (status, duration, outcome), never a body;
 * - {@link Agent}: undici's connection pools per origin, loaded without the rest of undici;
 * - {@link exchange}: one request, its whole answer as text (a dispatch handler, no Readable body);
 * - {@link withRetries}: p-retry backoff for failures the caller marks retryable, honouring Retry-After.
 */
export { Agent } from './agent.ts';
export { type AuthHooks, authInterceptor } from './auth-interceptor.ts';
export { type CallObserverHooks, type Classified, callObserver, type ObservedCall } from './call-observer.ts';
export { type Answer, exchange } from './exchange.ts';
export { type RetryPolicy, type WithRetriesOptions, withRetries } from './retries.ts';
export { type FreshToken, TokenCache, type TokenCacheOptions, type TokenSource } from './token-cache.ts';
