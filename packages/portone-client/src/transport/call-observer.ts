import type { IncomingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';

/** What the observer measures of every HTTP attempt. */
export interface ObservedCall {
  /** HTTP status, or undefined when no response arrived. */
  status: number | undefined;
  durationMs: number;
  outcome: 'ok' | 'error';
  /** Name of the error class this attempt maps to. */
  error?: string;
}

/** How an answer (or a transport failure) reads: the error class name, if any, and extra event fields. */
export interface Classified<X extends object> {
  error: string | undefined;
  fields: X;
}

export interface CallObserverHooks<B extends object, X extends object> {
  /** Facts known before sending (never a secret), or undefined not to observe this request. */
  describe(opts: Dispatcher.DispatchOptions): B | undefined;
  /** Reads a finished answer: its status and the first `headBytes` of its body (latin1). */
  classify(status: number, head: string): Classified<X>;
  /** Reads a transport failure (no complete answer). */
  classifyError(error: Error): Classified<X>;
  /** Called once per attempt; must not throw (errors are ignored). */
  onCall(event: B & X & ObservedCall): void;
  /** Body bytes kept for `classify`. Default 256. */
  headBytes?: number;
}

type Handler = Dispatcher.DispatchHandler;
type Controller = Dispatcher.DispatchController;

/** Reports every HTTP attempt `describe` picks to `onCall`, with its status, duration and outcome. */
export function callObserver<B extends object, X extends object>(
  hooks: CallObserverHooks<B, X>,
): Dispatcher.DispatcherComposeInterceptor {
  const headBytes = hooks.headBytes ?? 256;
  return (dispatch) =>
    function callObserver(opts: Dispatcher.DispatchOptions, handler: Handler): boolean {
      const base = hooks.describe(opts);
      if (base === undefined) return dispatch(opts, handler);
      const report = (facts: ObservedCall, classified: Classified<X>) => {
        const error = classified.error;
        try {
          hooks.onCall({
            ...base,
            ...classified.fields,
            ...facts,
            outcome: error === undefined ? 'ok' : 'error',
            ...(error === undefined ? {} : { error }),
          });
        } catch {
          // A logging hook must not break the call it observes.
        }
      };
      return dispatch(opts, new ObservingHandler(handler, headBytes, hooks, report));
    };
}

class ObservingHandler<X extends object> implements Handler {
  readonly #handler: Handler;
  readonly #headBytes: number;
  readonly #hooks: Pick<CallObserverHooks<object, X>, 'classify' | 'classifyError'>;
  readonly #report: (facts: ObservedCall, classified: Classified<X>) => void;
  readonly #started = performance.now();
  #status: number | undefined;
  #head = '';

  constructor(
    handler: Handler,
    headBytes: number,
    hooks: Pick<CallObserverHooks<object, X>, 'classify' | 'classifyError'>,
    report: (facts: ObservedCall, classified: Classified<X>) => void,
  ) {
    this.#handler = handler;
    this.#headBytes = headBytes;
    this.#hooks = hooks;
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
    if (this.#head.length < this.#headBytes) this.#head += chunk.subarray(0, this.#headBytes).toString('latin1');
    this.#handler.onResponseData?.(controller, chunk);
  }

  onResponseEnd(controller: Controller, trailers: IncomingHttpHeaders): void {
    const status = this.#status ?? 0;
    this.#report(
      { status, durationMs: performance.now() - this.#started, outcome: 'ok' },
      this.#hooks.classify(status, this.#head),
    );
    this.#handler.onResponseEnd?.(controller, trailers);
  }

  onResponseError(controller: Controller, error: Error): void {
    this.#report(
      { status: this.#status, durationMs: performance.now() - this.#started, outcome: 'error' },
      this.#hooks.classifyError(error),
    );
    this.#handler.onResponseError?.(controller, error);
  }
}
