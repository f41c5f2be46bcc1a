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
 * are cut per stream, so a line split across frames is reassembled.
 */
export async function* logLines(source: Readable, options: { tty: boolean; timestamps: boolean }) {
  const partial: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
  const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  let pending: Buffer = Buffer.alloc(0);

  function* emit(stream: 'stdout' | 'stderr', chunk: Buffer): Generator<LogLine> {
    const text = partial[stream] + decoders[stream].decode(chunk, { stream: true });
    const parts = text.split('\n');
    partial[stream] = parts.pop() ?? '';
    for (const part of parts) yield toLine(stream, part.replace(/\r$/, ''), options.timestamps);
  }

  for await (const chunk of source as AsyncIterable<Buffer>) {
    if (options.tty) {
      yield* emit('stdout', chunk);
      continue;
    }
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 8) {
      const type = pending[0] as number;
      const size = pending.readUInt32BE(4);
      if (pending.length < 8 + size) break;
      const payload = pending.subarray(8, 8 + size);
      pending = pending.subarray(8 + size);
      // Type 0 is stdin (never sent) and 3 the engine's own error frames; those go to stderr.
      yield* emit(type === 1 ? STREAM_NAMES[1] : STREAM_NAMES[2], payload);
    }
  }
  for (const stream of ['stdout', 'stderr'] as const) {
    const rest = partial[stream] + decoders[stream].decode();
    if (rest) yield toLine(stream, rest, options.timestamps);
  }
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
