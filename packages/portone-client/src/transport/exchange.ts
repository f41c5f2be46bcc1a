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
 * lives in the part of undici the PortOne client does not load (see client.ts). Any status resolves;
 * the caller decides what it means. `signal` aborts the request (the promise rejects with its
 * reason); an answer that never finishes fails with undici's error (headers or body timeout, socket
 * closed). Also the docker-agent's engine reads (inspect, list).
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
    const onAbort = () => controller?.abort(signal?.reason);
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
