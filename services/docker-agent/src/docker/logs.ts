import type { Readable } from 'node:stream';

export interface LogLine {
  stream: 'stdout' | 'stderr';
  line: string;
  ts?: string;
}

const STREAM_NAMES = { 1: 'stdout', 2: 'stderr' } as const;

/**
 * Turns a container log stream into lines. Non-TTY containers' output is multiplexed: each frame has
 * an 8-byte header (stream type, 3 zero bytes, big-endian length); TTY output is raw stdout. Lines
 * are cut per stream, so a line split across frames is reassembled. One batch per chunk read from
 * the engine (a chunk holds hundreds of lines): the consumer pays one await per chunk, not per line.
 */
export async function* logLineBatches(
  source: Readable,
  options: { tty: boolean; timestamps: boolean },
): AsyncGenerator<LogLine[]> {
  const partial: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
  const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  let pending: Buffer = Buffer.alloc(0);

  function emit(stream: 'stdout' | 'stderr', chunk: Buffer, batch: LogLine[]): void {
    const text = partial[stream] + decoders[stream].decode(chunk, { stream: true });
    let start = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      const cut = end > start && text.charCodeAt(end - 1) === 0x0d ? end - 1 : end;
      batch.push(toLine(stream, text.slice(start, cut), options.timestamps));
      start = end + 1;
    }
    partial[stream] = text.slice(start);
  }

  for await (const chunk of source as AsyncIterable<Buffer>) {
    const batch: LogLine[] = [];
    if (options.tty) {
      emit('stdout', chunk, batch);
    } else {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= 8) {
        const type = pending[0] as number;
        const size = pending.readUInt32BE(4);
        if (pending.length < 8 + size) break;
        const payload = pending.subarray(8, 8 + size);
        pending = pending.subarray(8 + size);
        // Type 0 is stdin (never sent) and 3 the engine's own error frames; those go to stderr.
        emit(type === 1 ? STREAM_NAMES[1] : STREAM_NAMES[2], payload, batch);
      }
    }
    if (batch.length) yield batch;
  }
  const rest: LogLine[] = [];
  for (const stream of ['stdout', 'stderr'] as const) {
    const text = partial[stream] + decoders[stream].decode();
    if (text) rest.push(toLine(stream, text, options.timestamps));
  }
  if (rest.length) yield rest;
}

/** The lines of a container log stream, one at a time. */
export async function* logLines(source: Readable, options: { tty: boolean; timestamps: boolean }) {
  for await (const batch of logLineBatches(source, options)) yield* batch;
}

function toLine(stream: 'stdout' | 'stderr', text: string, timestamps: boolean): LogLine {
  if (timestamps) {
    const space = text.indexOf(' ');
    if (space > 0 && /^\d{4}-\d{2}-\d{2}T/.test(text)) {
      return { stream, line: text.slice(space + 1), ts: text.slice(0, space) };
    }
  }
  return { stream, line: text };
}
