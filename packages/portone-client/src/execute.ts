import type { Dispatcher } from 'undici';
import type { CallOptions, Credentials } from './credentials.ts';
import {
  PortOneError,
  PortOneNetworkError,
  PortOneOutcomeUnknownError,
  PortOneTimeoutError,
  PortOneUnavailableError,
} from './errors.ts';
import { OPERATIONS, type OperationName, type OperationResult, type Safety } from './operations.ts';
import { compileRoute, type QueryValue, type RouteFiller, toQueryString } from './query.ts';
import type { AccessToken } from './schemas/auth.ts';
import { type PreparedRequest, send, type Transport } from './send.ts';
import { isClosedError, isNeverSent } from './transport/failure.ts';
import { type RetryPolicy, withRetries } from './transport/retries.ts';
import type { TokenStore } from './transport/token-store.ts';

export interface ExecutorOptions {
  transport: Transport;
  /** Dispatcher with the client's interceptors. */
  api: Dispatcher;
  tokens: TokenStore;
  credentials: Credentials;
  /** Resolved retry policy (see `PortOneClientOptions.retry`). */
  retry: RetryPolicy;
  isClosed: () => boolean;
}

/** What one operation call sends. */
export interface CallInput {
  params?: Readonly<Record<string, string | undefined>>;
  query?: Readonly<Record<string, QueryValue>>;
  body?: object;
  /** merchant_uids a charge concerns, reported by `PortOneOutcomeUnknownError`. */
  merchantUids?: readonly string[];
  impUid?: string | undefined;
  /** The request carries `checksum` (makes a cancel safe to replay). */
  checksum?: boolean;
}

/** Runs operations: one p-retry layer per call, deciding from typed errors and the operation's safety. */
export function createExecutor(options: ExecutorOptions) {
  const { retry } = options;
  // Each operation's route is parsed once, on its first call.
  const routes = new Map<OperationName, RouteFiller>();
  const fillRoute = (name: OperationName): RouteFiller => {
    let fill = routes.get(name);
    if (fill === undefined) {
      fill = compileRoute(OPERATIONS[name].route);
      routes.set(name, fill);
    }
    return fill;
  };

  async function withRetry<T>(
    name: OperationName,
    safety: Exclude<Safety, 'checksum'>,
    input: CallInput,
    signal: AbortSignal | undefined,
    attemptOnce: (attempt: number) => Promise<T>,
  ): Promise<T> {
    if (options.isClosed()) {
      throw new PortOneNetworkError({ operation: name, attempts: 0, reason: 'the client is closed' });
    }
    try {
      return await withRetries(attemptOnce, {
        policy: retry,
        signal,
        isRetryable: (error) => isTransient(error) && !options.isClosed() && (safety === 'read' || isNeverSent(error)),
        retryAfterMs: (error) => (error instanceof PortOneUnavailableError ? error.retryAfterMs : undefined),
      });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (safety === 'charge' && error instanceof PortOneError && !error.outcomeKnown) {
        throw new PortOneOutcomeUnknownError({
          ...error.toDetails(),
          portoneMessage: undefined,
          reason: `${error.name} after the request may have reached PortOne; look the payment up before retrying`,
          cause: error,
          merchantUids: input.merchantUids ?? [],
          impUid: input.impUid,
        });
      }
      throw error;
    }
  }

  /** Performs an API operation; returns PortOne's validated `response` and the HTTP status. */
  async function run<N extends OperationName>(
    name: N,
    input: CallInput,
    call: CallOptions | undefined,
  ): Promise<{ status: number; data: OperationResult<N> }> {
    const def = OPERATIONS[name];
    const credentials = call?.credentials ?? options.credentials;
    const { path, pattern } = fillRoute(name)(input.params ?? {});
    const prepared: PreparedRequest = {
      method: def.method,
      path: path + toQueryString(input.query),
      pattern,
      body: input.body === undefined ? undefined : JSON.stringify(input.body),
    };
    const safety = effectiveSafety(def.safety, input);
    const signal = call?.signal;
    const answer = await withRetry(name, safety, input, signal, (attempt) =>
      send(options.api, options.transport, name, prepared, credentials, {
        attempt,
        signal,
        outcomeKnownIfSent: safety === 'read',
      }),
    );
    return answer as { status: number; data: OperationResult<N> };
  }

  /** A usable token for the call's credentials, from the cache or one shared request, with retries. */
  function getToken(call: CallOptions | undefined): Promise<AccessToken> {
    const credentials = call?.credentials ?? options.credentials;
    const signal = call?.signal;
    return withRetry('getToken', 'read', {}, signal, (attempt) => options.tokens.get(credentials, { signal, attempt }));
  }

  /** PortOne's clock, UNIX seconds, read off the (cached or fetched) token's `now`. */
  async function portoneNow(call: CallOptions | undefined): Promise<number> {
    const credentials = call?.credentials ?? options.credentials;
    await getToken(call);
    return options.tokens.portoneNow(credentials) ?? Math.floor(Date.now() / 1000);
  }

  return { run, getToken, portoneNow };
}

function effectiveSafety(safety: Safety, input: CallInput): Exclude<Safety, 'checksum'> {
  if (safety !== 'checksum') return safety;
  return input.checksum ? 'read' : 'charge';
}

function isTransient(error: unknown): boolean {
  if (error instanceof PortOneNetworkError || error instanceof PortOneTimeoutError) {
    return !isClosedError(error.cause);
  }
  return error instanceof PortOneUnavailableError;
}
