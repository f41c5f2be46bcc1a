import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import type { Credentials } from './credentials.ts';
import { PortOneError, type PortOneErrorDetails } from './errors.ts';
import { OPERATIONS, type OperationName } from './operations.ts';
import type { AccessToken } from './schemas/auth.ts';
import type { PortOneDispatchOptions } from './transport/context.ts';
import { exchange } from './transport/exchange.ts';
import { markNeverSent, transportFailure } from './transport/failure.ts';
import { interpretResponse, type PortOneAnswer } from './transport/response.ts';

/** Where and how long: shared by every request of one client. */
export interface Transport {
  origin: string;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
}

/** A request ready to send: method, filled path with query, route pattern and JSON body. */
export interface PreparedRequest {
  method: string;
  path: string;
  pattern: string;
  body: string | undefined;
}

/** Facts about this attempt that shape the errors it may raise. */
export interface AttemptFacts {
  attempt: number;
  signal: AbortSignal | undefined;
  /** Whether a failure after sending leaves the outcome known (true for reads). */
  outcomeKnownIfSent: boolean;
}

const JSON_HEADERS = { accept: 'application/json', 'content-type': 'application/json' } as const;
const ACCEPT_ONLY = { accept: 'application/json' } as const;

type ErrorClass = new (details: PortOneErrorDetails) => PortOneError;

/** One HTTP attempt of an operation: sends, reads the body, and returns the validated answer or throws. */
export async function send(
  dispatcher: Dispatcher,
  transport: Transport,
  name: OperationName,
  prepared: PreparedRequest,
  credentials: Credentials,
  facts: AttemptFacts,
): Promise<PortOneAnswer> {
  const def = OPERATIONS[name];
  const request: PortOneDispatchOptions & Dispatcher.DispatchOptions = {
    origin: transport.origin,
    method: prepared.method,
    path: prepared.path,
    headers: prepared.body === undefined ? ACCEPT_ONLY : JSON_HEADERS,
    body: prepared.body ?? null,
    // Read by the token interceptor: an abort while this call waits for a token stops its wait.
    signal: facts.signal ?? null,
    headersTimeout: transport.headersTimeoutMs,
    bodyTimeout: transport.bodyTimeoutMs,
    portone: {
      operation: name,
      route: prepared.pattern,
      impKey: credentials.impKey,
      credentials: def.auth ? credentials : undefined,
      attempt: facts.attempt,
    },
  };
  let status: number;
  let headers: IncomingHttpHeaders;
  let text: string;
  try {
    ({ status, headers, text } = await exchange(dispatcher, request, facts.signal));
  } catch (error) {
    if (facts.signal?.aborted) throw facts.signal.reason;
    if (error instanceof PortOneError) throw fromTokenRequest(name, error, facts.attempt);
    throw transportFailure(error, {
      operation: name,
      attempts: facts.attempt,
      outcomeKnownIfSent: facts.outcomeKnownIfSent,
    });
  }
  const multi = 'multi' in def && def.multi;
  return interpretResponse({ operation: name, schema: def.response, multi }, status, headers, text, {
    attempts: facts.attempt,
    outcomeKnownIfAmbiguous: facts.outcomeKnownIfSent,
    nowMs: Date.now(),
  });
}

/** `POST /users/getToken` once, through a dispatcher without the token interceptor. */
export async function requestToken(
  dispatcher: Dispatcher,
  transport: Transport,
  credentials: Credentials,
  attempt: number,
): Promise<AccessToken> {
  const { route, method } = OPERATIONS.getToken;
  const body = JSON.stringify({ imp_key: credentials.impKey, imp_secret: credentials.impSecret });
  const answer = await send(
    dispatcher,
    transport,
    'getToken',
    { method, path: route, pattern: route, body },
    credentials,
    // Shared by every caller waiting on it, so no caller's signal; getToken is a read.
    { attempt, signal: undefined, outcomeKnownIfSent: true },
  );
  return answer.data as AccessToken;
}

/**
 * The token request failed before this call was dispatched, so the call never left whatever its
 * safety. The failure is re-created for this operation: the token error is shared by every caller
 * that waited on the same request.
 */
function fromTokenRequest(name: OperationName, error: PortOneError, attempt: number): PortOneError {
  if (error.operation === name) return error;
  const Class = error.constructor as ErrorClass;
  return markNeverSent(
    new Class({
      ...error.toDetails(),
      operation: name,
      attempts: attempt,
      outcomeKnown: true,
      reason: `token request failed (${error.name})`,
      cause: error,
    }),
  );
}
