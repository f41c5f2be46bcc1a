import type { EngineBody } from './body.ts';

export interface LogLine {
  stream: 'stdout' | 'stderr';
  line: string;
  ts?: string;
}

export interface LogFormat {
  tty: boolean;
  timestamps: boolean;
}

/** 1 is stdout, 2 stderr (the multiplexed frame's stream type). */
export type StreamType = 1 | 2;

const STREAM_NAMES = { 1: 'stdout', 2: 'stderr' } as const;

/** Receives one line: `bytes[start, end)`, without its newline (nor the CR of a CR LF). */
type OnLine = (stream: StreamType, bytes: Buffer, start: number, end: number) => void;

const NEWLINE = 0x0a;
const CR = 0x0d;

/**
 * Cuts a container log stream into lines, straight from the chunks the engine sends. Non-TTY
 * containers' output is multiplexed: each frame has an 8-byte header (stream type, 3 zero bytes,
 * big-endian length); TTY output is raw stdout. Lines are cut per stream in bytes (a newline byte is
 * never inside a UTF-8 character), so a line split across frames or chunks is reassembled and only
 * then decoded; a line within one chunk (nearly all) is handed over as a range of it, without a copy.
 */
export class LogDemuxer {
  readonly #tty: boolean;
  readonly #onLine: OnLine;
  /** A frame header cut by a chunk boundary. */
  readonly #header = Buffer.alloc(8);
  #headerBytes = 0;
  /** Payload bytes of the current frame still to come, and its stream. */
  #remaining = 0;
  #stream: StreamType = 1;
  /** Per stream, the start of a line whose newline has not arrived yet. */
  readonly #partial: Record<StreamType, Buffer | undefined> = { 1: undefined, 2: undefined };

  constructor(format: Pick<LogFormat, 'tty'>, onLine: OnLine) {
    this.#tty = format.tty;
    this.#onLine = onLine;
  }

  push(chunk: Buffer): void {
    if (this.#tty) {
      this.#payload(1, chunk, 0, chunk.length);
      return;
    }
    const length = chunk.length;
    let pos = 0;
    while (pos < length) {
      if (this.#remaining === 0) {
        let type: number;
        let size: number;
        if (this.#headerBytes === 0 && length - pos >= 8) {
          type = chunk[pos] as number;
          size = chunk.readUInt32BE(pos + 4);
          pos += 8;
        } else {
          const take = Math.min(8 - this.#headerBytes, length - pos);
          chunk.copy(this.#header, this.#headerBytes, pos, pos + take);
          this.#headerBytes += take;
          pos += take;
          if (this.#headerBytes < 8) return;
          this.#headerBytes = 0;
          type = this.#header[0] as number;
          size = this.#header.readUInt32BE(4);
        }
        // Type 0 is stdin (never sent) and 3 the engine's own error frames; those go to stderr.
        this.#stream = type === 1 ? 1 : 2;
        this.#remaining = size;
        continue;
      }
      const end = Math.min(length, pos + this.#remaining);
      this.#payload(this.#stream, chunk, pos, end);
      this.#remaining -= end - pos;
      pos = end;
    }
  }

  /** The last line of each stream that ended without a newline. */
  end(): void {
    for (const stream of [1, 2] as const) {
      const partial = this.#partial[stream];
      this.#partial[stream] = undefined;
      if (partial?.length) this.#onLine(stream, partial, 0, partial.length);
    }
  }

  #payload(stream: StreamType, chunk: Buffer, start: number, end: number): void {
    // Searching the chunk past `end` could scan other frames: then search the frame's range only.
    const bytes = end === chunk.length ? chunk : chunk.subarray(0, end);
    let from = start;
    for (let nl = bytes.indexOf(NEWLINE, from); nl !== -1; nl = bytes.indexOf(NEWLINE, from)) {
      const partial = this.#partial[stream];
      if (partial) {
        this.#partial[stream] = undefined;
        const line = Buffer.concat([partial, bytes.subarray(from, nl)]);
        this.#line(stream, line, 0, line.length);
      } else this.#line(stream, bytes, from, nl);
      from = nl + 1;
    }
    if (from < end) {
      const rest = bytes.subarray(from, end);
      const partial = this.#partial[stream];
      this.#partial[stream] = partial ? Buffer.concat([partial, rest]) : rest;
    }
  }

  #line(stream: StreamType, bytes: Buffer, start: number, end: number): void {
    this.#onLine(stream, bytes, start, end > start && bytes[end - 1] === CR ? end - 1 : end);
  }
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T/;

/** A line's text, with the engine's timestamp split off when asked for (`ts`). */
export function toLogLine(stream: StreamType, text: string, timestamps: boolean): LogLine {
  if (timestamps) {
    const space = text.indexOf(' ');
    if (space > 0 && TIMESTAMP.test(text)) {
      return { stream: STREAM_NAMES[stream], line: text.slice(space + 1), ts: text.slice(0, space) };
    }
  }
  return { stream: STREAM_NAMES[stream], line: text };
}

/** The lines of a container log stream, one batch per engine read. */
export async function* logLineBatches(source: EngineBody, format: LogFormat): AsyncGenerator<LogLine[]> {
  const decoder = new TextDecoder();
  let batch: LogLine[] = [];
  const demuxer = new LogDemuxer(format, (stream, bytes, start, end) => {
    batch.push(toLogLine(stream, decoder.decode(bytes.subarray(start, end)), format.timestamps));
  });
  for await (const chunks of source) {
    for (const chunk of chunks) demuxer.push(chunk);
    if (batch.length) {
      yield batch;
      batch = [];
    }
  }
  demuxer.end();
  if (batch.length) yield batch;
}
