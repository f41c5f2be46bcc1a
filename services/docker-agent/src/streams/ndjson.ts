import { PassThrough } from 'node:stream';
import { AppError } from '@repo/service-kit';
import type { FastifyReply, FastifyRequest } from 'fastify';

export interface NdjsonOptions {
  /** A heartbeat line goes out after this long without a write. */
  heartbeatMs: number;
  /** Aborted when the caller goes away: it must release the Docker stream behind `events`. */
  abort: AbortController;
  /**
   * Wait for the first event before answering, so that a failure the engine reports at once
   * (an unknown image, a missing registry) is a problem response and not a 200 with an error line.
   */
  prime?: boolean;
  /** Maps errors to the catalog (dockerode's errors through the Docker translator). */
  translate: (error: unknown) => AppError | undefined;
}

/** Events already encoded as NDJSON (whole lines, each ending in a newline): sent as they are. */
export class NdjsonBytes {
  readonly bytes: Buffer;
  constructor(bytes: Buffer) {
    this.bytes = bytes;
  }
}

/** Milliseconds the lines of a busy stream are gathered for before they are written. */
const FLUSH_MS = 5;

export interface StreamError {
  type: 'error';
  code: string;
  status: number;
  message: string;
}

/**
 * The one streaming convention: chunked `application/x-ndjson`, one JSON object per line,
 * `X-Accel-Buffering: no` so nginx passes lines on at once, heartbeats on quiet streams, a final
 * `{type:"error"}` line when the source fails after the answer started, and the source released
 * (via `abort`) as soon as the caller disconnects.
 */
export async function sendNdjson(
  request: FastifyRequest,
  reply: FastifyReply,
  /** Events, each written as one line; NdjsonBytes are lines already encoded. */
  events: AsyncIterable<object>,
  options: NdjsonOptions,
): Promise<FastifyReply> {
  const { abort } = options;
  let callerGone = false;
  const onClose = () => {
    if (!reply.raw.writableFinished) {
      callerGone = true;
      request.audit.aborted = true;
      abort.abort();
    }
  };
  // The raw response closes when the caller disconnects, also while we wait for the first event.
  reply.raw.once('close', onClose);

  const iterator = events[Symbol.asyncIterator]();
  let first: IteratorResult<object> | undefined;
  if (options.prime) {
    try {
      first = await iterator.next();
    } catch (error) {
      abort.abort();
      throw error;
    }
  }

  const out = new PassThrough();
  let ended = false;
  // Lines are gathered and written together, at most one write per FLUSH_MS (or per 64 KiB): a
  // burst is a few large writes, not one per engine read (the engine sends each log line as its own
  // HTTP chunk, so a reader keeping up gets a few lines per read: thousands of small writes, and as
  // many wake-ups of the caller, for 100,000 lines), while a line after a quiet spell goes out at once.
  // Gathered so far: encoded bytes in `parts`, then the text of the events written after them.
  const parts: Buffer[] = [];
  let text = '';
  let size = 0;
  let flushTimer: NodeJS.Timeout | undefined;
  let lastWrite = 0;
  let drained: Promise<void> | undefined;
  const flush = () => {
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = undefined;
    if (size === 0) return;
    // The heartbeat waits from the last write (re-armed per write, not per event: thousands a second).
    heartbeat.refresh();
    lastWrite = performance.now();
    if (text && parts.length) parts.push(Buffer.from(text));
    const ok = out.write(parts.length === 0 ? text : parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts));
    parts.length = 0;
    text = '';
    size = 0;
    if (!ok) {
      drained ??= new Promise<void>((resolve) => {
        const done = () => {
          drained = undefined;
          resolve();
        };
        out.once('drain', done);
        out.once('close', done);
      });
    }
  };
  const write = (event: object): void => {
    if (ended) return;
    if (event instanceof NdjsonBytes) {
      if (text) {
        parts.push(Buffer.from(text));
        text = '';
      }
      parts.push(event.bytes);
      size += event.bytes.length;
    } else {
      const line = `${JSON.stringify(event)}\n`;
      text += line;
      size += line.length;
    }
    if (size >= 64 * 1024) flush();
    else flushTimer ??= setTimeout(flush, Math.max(1, lastWrite + FLUSH_MS - performance.now()));
  };
  const heartbeat = setTimeout(function beat() {
    if (ended) return;
    write({ type: 'heartbeat', ts: new Date().toISOString() });
  }, options.heartbeatMs);

  const finish = () => {
    if (ended) return;
    flush();
    ended = true;
    clearTimeout(heartbeat);
    request.server.openStreams.delete(shutdown);
    out.end();
  };
  // The app is closing: say so as the last line, release the source, end the answer.
  const shutdown = () => {
    if (ended) return;
    request.audit.failed = 'the agent shut down while the stream was open';
    write({
      type: 'error',
      code: 'SHUTTING_DOWN',
      status: 503,
      message: 'docker-agent is shutting down; reconnect to continue',
    } satisfies StreamError);
    abort.abort();
    finish();
  };
  request.server.openStreams.add(shutdown);
  request.server.streamsStarted.inc({ route: request.routeOptions.url ?? '' });
  out.once('close', () => {
    request.server.openStreams.delete(shutdown);
    if (!ended) {
      ended = true;
      clearTimeout(heartbeat);
      if (flushTimer) clearTimeout(flushTimer);
      abort.abort();
    }
  });

  const pump = async () => {
    try {
      if (first && !first.done) write(first.value);
      if (!first?.done) {
        while (!ended && !callerGone) {
          const next = await iterator.next();
          if (next.done) break;
          write(next.value);
          if (drained) await drained;
        }
      }
    } catch (error) {
      if (!callerGone && !abort.signal.aborted) {
        const problem = toStreamError(error, options.translate);
        request.audit.failed = problem.message;
        request.log.warn({ err: error, code: problem.code }, 'stream failed after it started');
        write(problem);
      }
      abort.abort();
    } finally {
      finish();
    }
  };

  reply
    .header('content-type', 'application/x-ndjson; charset=utf-8')
    .header('cache-control', 'no-cache, no-transform')
    .header('x-accel-buffering', 'no');
  // Headers go out at once (not with the first line), so callers and proxies see the stream start.
  reply.raw.once('pipe', () => reply.raw.flushHeaders());
  void pump();
  return reply.send(out);
}

function toStreamError(error: unknown, translate: NdjsonOptions['translate']): StreamError {
  const known = error instanceof AppError ? error : translate(error);
  if (known) return { type: 'error', code: known.code, status: known.statusCode, message: known.message };
  return { type: 'error', code: 'INTERNAL', status: 500, message: 'stream failed' };
}
