import type { Dispatcher } from 'undici';
import { EngineAnswerError } from './errors.ts';

/** A streamed engine answer: its body's chunks, one array per read (every chunk that arrived since). */
export type EngineBody = AsyncIterable<readonly Buffer[]>;

/** Bytes held for a reader that is behind before the engine connection is paused. */
const HIGH_WATER = 1024 * 1024;

/**
 * Reads a streamed engine answer (logs, stats) as an undici dispatch handler. The engine sends each
 * log line as its own HTTP chunk: undici hands each one over as a view into the socket read, and the
 * chunks gathered meanwhile go to the reader as one array, so the reader pays one await per socket
 * read and no stream machinery per line (node:http's IncomingMessage cost ~1.7 µs a chunk, more
 * than the agent's own work on a line).
 *
 * `started` settles with the answer's status line: resolved for a 2xx, rejected with the engine's
 * error answer (an EngineAnswerError, as the plain requests throw) or the connection's error. The
 * request is aborted (its connection closed) when `signal` aborts or the reader stops early.
 */
export class EngineBodyReader implements Dispatcher.DispatchHandler, EngineBody {
  readonly started: Promise<void>;
  #settle!: { resolve: () => void; reject: (error: Error) => void };
  #controller: Dispatcher.DispatchController | undefined;
  readonly #signal: AbortSignal | undefined;
  #status = 0;
  #chunks: Buffer[] = [];
  #bytes = 0;
  #done = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;

  constructor(signal?: AbortSignal) {
    this.#signal = signal;
    this.started = new Promise((resolve, reject) => {
      this.#settle = { resolve, reject };
    });
    signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  readonly #onAbort = () => {
    this.#controller?.abort(this.#signal?.reason instanceof Error ? this.#signal.reason : new Error('aborted'));
  };

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#signal?.aborted) this.#onAbort();
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number): void {
    this.#status = statusCode;
    if (statusCode >= 200 && statusCode < 300) this.#settle.resolve();
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    if (this.#bytes > HIGH_WATER && this.#ok) controller.pause();
    this.#notify();
  }

  onResponseEnd(): void {
    this.#done = true;
    if (!this.#ok) {
      const text = Buffer.concat(this.#chunks).toString('utf8');
      this.#chunks = [];
      this.#fail(new EngineAnswerError(this.#status, text));
      return;
    }
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#notify();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.#fail(error);
  }

  get #ok(): boolean {
    return this.#status >= 200 && this.#status < 300;
  }

  #fail(error: Error): void {
    this.#error = error;
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#settle.reject(error);
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<readonly Buffer[]> {
    try {
      for (;;) {
        if (this.#chunks.length > 0) {
          const chunks = this.#chunks;
          this.#chunks = [];
          this.#bytes = 0;
          if (this.#controller?.paused) this.#controller.resume();
          yield chunks;
        } else if (this.#error) throw this.#error;
        else if (this.#done) return;
        else
          await new Promise<void>((resolve) => {
            this.#wake = resolve;
          });
      }
    } finally {
      // The reader stopped before the end (a cap, a failure downstream): release the connection.
      if (!this.#done && !this.#error) this.#controller?.abort(new Error('the engine stream was not read to the end'));
    }
  }
}
