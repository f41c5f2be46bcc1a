import type { Dispatcher } from 'undici';
import type { Credentials } from '../credentials.ts';

/**
 * What a client call tells the interceptors about itself. It rides on the dispatch options under
 * `portone`, which undici passes through untouched, so each interceptor reads what it needs without
 * a side channel.
 */
export interface PortOneRequestContext {
  /** Client operation name, e.g. `payments.get`. */
  operation: string;
  /** Route pattern, e.g. `/payments/{imp_uid}` (never the filled URL). */
  route: string;
  /** The merchant the call is for (masked before it leaves the client). */
  impKey: string;
  /** Present when the call needs an access token; the token interceptor adds it. */
  credentials?: Credentials | undefined;
  /** 1-based attempt number of the retry layer. */
  attempt: number;
}

/** Dispatch options as the client's interceptors see them. */
export interface PortOneDispatchOptions extends Dispatcher.DispatchOptions {
  portone?: PortOneRequestContext;
  signal?: AbortSignal | null;
}
