import type { Dispatcher } from 'undici';
import { maskImpKey } from '../credentials.ts';
import { callObserver } from './call-observer.ts';
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

// Envelopes put `code` first; only the head of the body is kept to read it.
const CODE_AT_HEAD = /^\s*\{\s*"code"\s*:\s*(-?\d+)/;
const CODE_ANYWHERE = /"code"\s*:\s*(-?\d+)\s*,\s*"message"/;

/** Reports every HTTP attempt that carries a client context to `onCall` (the shared call observer). */
export function observeInterceptor({ onCall }: ObserveInterceptorOptions): Dispatcher.DispatcherComposeInterceptor {
  return callObserver({
    describe: (opts) => {
      const context = (opts as PortOneDispatchOptions).portone;
      if (context === undefined) return undefined;
      return {
        operation: context.operation,
        method: opts.method,
        path: context.route,
        attempt: context.attempt,
        impKey: maskImpKey(context.impKey),
      };
    },
    classify: (status, head) => {
      const match = CODE_AT_HEAD.exec(head) ?? CODE_ANYWHERE.exec(head);
      const code = match?.[1] === undefined ? undefined : Number(match[1]);
      return { error: failureName(status, code), fields: { code } };
    },
    classifyError: (error) => ({ error: transportFailureName(error), fields: { code: undefined } }),
    onCall,
  });
}
