import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/**
 * One request and its whole answer as text, dispatched with a handler that only collects the chunks:
 * undici's `request()` would build a Readable body for an answer that is read whole anyway, and it
 * lives in the part of undici the PortOne client does not load (see agent.ts). Any status resolves;
 * the caller decides what it means. `signal` aborts the request: the promise rejects with its reason
 * at once, also while the connection is still being made (the request is then never written). An
 * answer that never finishes fails with undici's error (headers or body timeout, socket closed).
 * Used by the PortOne client, the gateway's notification dispatcher and the docker-agent's engine
 * reads (inspect, list).
 */
export function exchange(
  dispatcher: Dispatcher,
  options: Dispatcher.DispatchOptions,
  signal?: AbortSignal,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const chunks: Buffer[] = [];
    let status = 0;
    let headers: IncomingHttpHeaders = {};
    let controller: Dispatcher.DispatchController | undefined;
    // undici calls onRequestStart only once a connection is there: an abort before that rejects at
    // once (nothing has been sent), and onRequestStart then aborts the request before it is written.
    const onAbort = () => (controller ? controller.abort(signal?.reason) : reject(signal?.reason));
    signal?.addEventListener('abort', onAbort, { once: true });
    const settled = () => signal?.removeEventListener('abort', onAbort);
    dispatcher.dispatch(options, {
      onRequestStart(c) {
        controller = c;
        if (signal?.aborted) c.abort(signal.reason); // aborted while it waited for a connection
      },
      onResponseStart(_c, statusCode, responseHeaders) {
        status = statusCode;
        headers = responseHeaders as IncomingHttpHeaders;
      },
      onResponseData(_c, chunk) {
        chunks.push(chunk);
      },
      onResponseEnd() {
        settled();
        // A small answer mostly arrives in one chunk: no copy then.
        const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
        resolve({ status, headers, text: body.toString('utf8') });
      },
      onResponseError(_c, error) {
        settled();
        reject(error);
      },
    });
  });
}
