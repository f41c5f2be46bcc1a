import type { IncomingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import { maskImpKey } from '../credentials.ts';
import type { PortOneDispatchOptions } from './context.ts';
import { failureName, transportFailureName } from './failure.ts';

/** One HTTP attempt, reported to `onCall`. Carries no body, header, token, secret or card data. */
export interface PortOneCallEvent {
  /** Client operation, e.g. `payments.cancel` or `getToken`. */
  operation: string;
  method: string;
  /** Route pattern such as `/payments/{imp_uid}`, never the filled URL. */
  path: string;
  /** HTTP status, or undefined when no response arrived. */
  status: number | undefined;
  /** PortOne's envelope code, when the body had one. */
  code: number | undefined;
  durationMs: number;
  /** Attempt number of the retry layer (a 401 replay keeps its attempt number). */
  attempt: number;
  /** First four characters of the imp_key and an ellipsis. */
  impKey: string;
  outcome: 'ok' | 'error';
  /** Name of the error class this attempt maps to. */
  error?: string;
}

export interface ObserveInterceptorOptions {
  onCall: (event: PortOneCallEvent) => void;
}

type Handler = Dispatcher.DispatchHandler;
type Controller = Dispatcher.DispatchController;

// Envelopes put `code` first; only the head of the body is kept to read it.
const HEAD_BYTES = 256;
const CODE_AT_HEAD = /^\s*\{\s*"code"\s*:\s*(-?\d+)/;
const CODE_ANYWHERE = /"code"\s*:\s*(-?\d+)\s*,\s*"message"/;

/** Reports every HTTP attempt that carries a client context to `onCall`. */
export function observeInterceptor({ onCall }: ObserveInterceptorOptions): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) =>
    function portoneObserveInterceptor(opts: Dispatcher.DispatchOptions, handler: Handler): boolean {
      const context = (opts as PortOneDispatchOptions).portone;
      if (context === undefined) return dispatch(opts, handler);
      const base = {
        operation: context.operation,
        method: opts.method,
        path: context.route,
        attempt: context.attempt,
        impKey: maskImpKey(context.impKey),
      };
      return dispatch(opts, new ObservingHandler(handler, (facts) => emit(onCall, { ...base, ...facts })));
    };
}

function emit(onCall: (event: PortOneCallEvent) => void, event: PortOneCallEvent): void {
  try {
    onCall(event);
  } catch {
    // A logging hook must not break the call it observes.
  }
}

type Facts = Pick<PortOneCallEvent, 'status' | 'code' | 'durationMs' | 'outcome' | 'error'>;

class ObservingHandler implements Handler {
  readonly #handler: Handler;
  readonly #report: (facts: Facts) => void;
  readonly #started = performance.now();
  #status: number | undefined;
  #head = '';

  constructor(handler: Handler, report: (facts: Facts) => void) {
    this.#handler = handler;
    this.#report = report;
  }

  onRequestStart(controller: Controller, context: unknown): void {
    this.#handler.onRequestStart?.(controller, context);
  }

  onRequestUpgrade(controller: Controller, statusCode: number, headers: IncomingHttpHeaders, socket: Duplex): void {
    this.#handler.onRequestUpgrade?.(controller, statusCode, headers, socket);
  }

  onResponseStart(controller: Controller, statusCode: number, headers: IncomingHttpHeaders, statusMessage?: string) {
    if (statusCode >= 200) this.#status = statusCode;
    this.#handler.onResponseStart?.(controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    if (this.#head.length < HEAD_BYTES) this.#head += chunk.subarray(0, HEAD_BYTES).toString('latin1');
    this.#handler.onResponseData?.(controller, chunk);
  }

  onResponseEnd(controller: Controller, trailers: IncomingHttpHeaders): void {
    const status = this.#status ?? 0;
    const match = CODE_AT_HEAD.exec(this.#head) ?? CODE_ANYWHERE.exec(this.#head);
    const code = match?.[1] === undefined ? undefined : Number(match[1]);
    const error = failureName(status, code);
    this.#report({
      status,
      code,
      durationMs: performance.now() - this.#started,
      outcome: error === undefined ? 'ok' : 'error',
      ...(error === undefined ? {} : { error }),
    });
    this.#handler.onResponseEnd?.(controller, trailers);
  }

  onResponseError(controller: Controller, error: Error): void {
    this.#report({
      status: this.#status,
      code: undefined,
      durationMs: performance.now() - this.#started,
      outcome: 'error',
      error: transportFailureName(error),
    });
    this.#handler.onResponseError?.(controller, error);
  }
}
