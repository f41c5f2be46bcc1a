import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { TokenSource } from './token-cache.ts';

type Handler = Dispatcher.DispatchHandler;
type Controller = Dispatcher.DispatchController;

/** What the {@link authInterceptor} asks of the API it authenticates. */
export interface AuthHooks<K, T> {
  /** Where tokens come from (a {@link TokenCache}: cached, single flight). */
  tokens: TokenSource<K, T>;
  /** The token this request needs before it is sent, or undefined to send it as it is. */
  keyFor(opts: Dispatcher.DispatchOptions): K | undefined;
  /**
   * The token to fetch after a 401, read from its headers (a registry names it in
   * `WWW-Authenticate`); undefined passes the 401 to the caller. Default: the key it was sent with.
   */
  keyOnUnauthorized?(
    opts: Dispatcher.DispatchOptions,
    headers: IncomingHttpHeaders,
    sentWith: K | undefined,
  ): K | undefined;
  /** The request carrying `token` (headers added). */
  authorize(opts: Dispatcher.DispatchOptions, token: T, key: K): Dispatcher.DispatchOptions;
  /** The retry layer's attempt number, passed on to the token fetch. Default 1. */
  attempt?(opts: Dispatcher.DispatchOptions): number;
  /** The error reported when getting a token fails (the request itself never left). Default: as is. */
  tokenFailure?(error: unknown): Error;
}

/**
 * Authenticates requests with tokens: injects the cached token (or waits for one shared request),
 * and on a 401 drops the refused token (only if it is still the cached one), fetches one fresh token
 * and replays the request once; a second 401 reaches the caller.
 *
 * Getting the token is asynchronous work before sending, done the way undici's `dns` interceptor
 * resolves a host: start it, dispatch from its callback, report its failure through
 * `handler.onResponseError`, and return `true` at once. A replayed request must have a replayable
 * body (a string or buffer, or none).
 */
export function authInterceptor<K, T>(hooks: AuthHooks<K, T>): Dispatcher.DispatcherComposeInterceptor {
  const { tokens } = hooks;
  return (dispatch) =>
    function authInterceptor(opts: Dispatcher.DispatchOptions, handler: Handler): boolean {
      const key = hooks.keyFor(opts);
      const attempt = hooks.attempt?.(opts) ?? 1;
      const signal = (opts as { signal?: AbortSignal | null }).signal ?? undefined;

      const fail = (error: unknown) => {
        // The controller does not exist yet: nothing was dispatched (as in undici's dns interceptor).
        const reported = hooks.tokenFailure?.(error) ?? (error as Error);
        handler.onResponseError?.(null as unknown as Controller, reported);
      };
      const send = (request: Dispatcher.DispatchOptions, target: Handler) => {
        try {
          dispatch(request, target);
        } catch (error) {
          fail(error);
        }
      };
      const replayWith = (sent: { key: K; token: T } | undefined) => (headers: IncomingHttpHeaders) => {
        const next = hooks.keyOnUnauthorized ? hooks.keyOnUnauthorized(opts, headers, sent?.key) : sent?.key;
        if (next === undefined) return undefined;
        return () => {
          if (sent !== undefined) tokens.invalidate(sent.key, sent.token);
          tokens
            .get(next, { signal, attempt })
            .then((fresh) => send(hooks.authorize(opts, fresh, next), handler), fail);
        };
      };

      if (key === undefined) {
        send(opts, new ReplayOnUnauthorized(handler, replayWith(undefined)));
        return true;
      }
      const sendWith = (token: T) =>
        send(hooks.authorize(opts, token, key), new ReplayOnUnauthorized(handler, replayWith({ key, token })));
      // The usual case, a cached token, is sent at once rather than a promise turn later.
      const cached = tokens.peek?.(key);
      if (cached !== undefined) sendWith(cached);
      else tokens.get(key, { signal, attempt }).then(sendWith, fail);
      return true;
    };
}

/**
 * Passes everything through except a first 401 that `decide` can answer, whose body is drained and
 * dropped; when it ends, the replay runs (the downstream handler sees only the replay's answer).
 */
class ReplayOnUnauthorized implements Handler {
  readonly #handler: Handler;
  #decide: ((headers: IncomingHttpHeaders) => (() => void) | undefined) | undefined;
  #replay: (() => void) | undefined;

  constructor(handler: Handler, decide: (headers: IncomingHttpHeaders) => (() => void) | undefined) {
    this.#handler = handler;
    this.#decide = decide;
  }

  onRequestStart(controller: Controller, context: unknown): void {
    this.#handler.onRequestStart?.(controller, context);
  }

  onRequestUpgrade(controller: Controller, statusCode: number, headers: IncomingHttpHeaders, socket: Duplex): void {
    this.#handler.onRequestUpgrade?.(controller, statusCode, headers, socket);
  }

  onResponseStart(controller: Controller, statusCode: number, headers: IncomingHttpHeaders, statusMessage?: string) {
    const decide = this.#decide;
    if (statusCode >= 200) this.#decide = undefined;
    if (statusCode === 401 && decide !== undefined) {
      this.#replay = decide(headers);
      if (this.#replay !== undefined) return;
    }
    this.#handler.onResponseStart?.(controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    if (this.#replay === undefined) this.#handler.onResponseData?.(controller, chunk);
  }

  onResponseEnd(controller: Controller, trailers: IncomingHttpHeaders): void {
    const replay = this.#replay;
    if (replay !== undefined) {
      this.#replay = undefined;
      replay();
      return;
    }
    this.#handler.onResponseEnd?.(controller, trailers);
  }

  onResponseError(controller: Controller, error: Error): void {
    this.#decide = undefined;
    this.#replay = undefined;
    this.#handler.onResponseError?.(controller, error);
  }
}
