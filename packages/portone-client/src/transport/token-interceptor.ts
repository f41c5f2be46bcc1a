import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Credentials } from '../credentials.ts';
import { PortOneError } from '../errors.ts';
import type { AccessToken } from '../schemas/auth.ts';
import type { PortOneDispatchOptions } from './context.ts';
import { markNeverSent } from './failure.ts';
import type { TokenStore } from './token-store.ts';

export interface TokenInterceptorOptions {
  tokens: TokenStore;
}

type Handler = Dispatcher.DispatchHandler;
type Controller = Dispatcher.DispatchController;

/**
 * Adds `Authorization: Bearer <token>` (and `Tier`) to calls whose context carries credentials.
 *
 * Getting the token is asynchronous work before sending, done the way undici's `dns` interceptor
 * resolves a host: start it, dispatch from its callback, report its failure through
 * `handler.onResponseError`, and return `true` at once.
 *
 * A 401 answer drops the token (only if it is still the cached one), fetches one fresh token and
 * replays the request once; a second 401 reaches the caller. A token failure is marked "never sent":
 * the call itself did not leave, which the retry layer may rely on even for charges.
 */
export function tokenInterceptor({ tokens }: TokenInterceptorOptions): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) =>
    function portoneTokenInterceptor(opts: Dispatcher.DispatchOptions, handler: Handler): boolean {
      const options = opts as PortOneDispatchOptions;
      const context = options.portone;
      if (context?.credentials === undefined) return dispatch(opts, handler);
      const { credentials, attempt } = context;
      const signal = options.signal ?? undefined;

      const fail = (error: unknown) => {
        // The controller does not exist yet: nothing was dispatched (as in undici's dns interceptor).
        handler.onResponseError?.(
          null as unknown as Controller,
          error instanceof PortOneError ? markNeverSent(error) : (error as Error),
        );
      };

      const send = (token: AccessToken, target: Handler) => {
        try {
          dispatch(withToken(options, token.access_token, credentials), target);
        } catch (error) {
          fail(error);
        }
      };

      const replay = (stale: string) => {
        tokens.invalidate(credentials, stale);
        tokens.get(credentials, { signal, attempt }).then((fresh) => send(fresh, handler), fail);
      };

      tokens.get(credentials, { signal, attempt }).then((token) => {
        send(token, new ReplayOnUnauthorized(handler, () => replay(token.access_token)));
      }, fail);
      return true;
    };
}

function withToken(
  opts: PortOneDispatchOptions,
  accessToken: string,
  credentials: Credentials,
): PortOneDispatchOptions {
  const headers: Record<string, string> = {
    ...(opts.headers as Record<string, string> | undefined),
    authorization: `Bearer ${accessToken}`,
  };
  if (credentials.tier !== undefined) headers.tier = credentials.tier;
  return { ...opts, headers };
}

/**
 * Passes everything through except a first 401, whose body is drained and dropped; when it ends, the
 * request is replayed with a fresh token (the downstream handler sees only the replay's answer).
 */
class ReplayOnUnauthorized implements Handler {
  readonly #handler: Handler;
  #replay: (() => void) | undefined;
  #swallowing = false;

  constructor(handler: Handler, replay: () => void) {
    this.#handler = handler;
    this.#replay = replay;
  }

  onRequestStart(controller: Controller, context: unknown): void {
    this.#handler.onRequestStart?.(controller, context);
  }

  onRequestUpgrade(controller: Controller, statusCode: number, headers: IncomingHttpHeaders, socket: Duplex): void {
    this.#handler.onRequestUpgrade?.(controller, statusCode, headers, socket);
  }

  onResponseStart(controller: Controller, statusCode: number, headers: IncomingHttpHeaders, statusMessage?: string) {
    if (statusCode === 401 && this.#replay !== undefined) {
      this.#swallowing = true;
      return;
    }
    this.#handler.onResponseStart?.(controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    if (!this.#swallowing) this.#handler.onResponseData?.(controller, chunk);
  }

  onResponseEnd(controller: Controller, trailers: IncomingHttpHeaders): void {
    const replay = this.#replay;
    if (this.#swallowing && replay !== undefined) {
      this.#swallowing = false;
      this.#replay = undefined;
      replay();
      return;
    }
    this.#handler.onResponseEnd?.(controller, trailers);
  }

  onResponseError(controller: Controller, error: Error): void {
    this.#swallowing = false;
    this.#replay = undefined;
    this.#handler.onResponseError?.(controller, error);
  }
}
