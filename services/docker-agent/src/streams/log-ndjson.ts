import { isUtf8 } from 'node:buffer';
import type { EngineBody } from '../docker/body.ts';
import { LogDemuxer, type LogFormat, type StreamType, toLogLine } from '../docker/logs.ts';
import { NdjsonBytes } from './ndjson.ts';

const PREFIX: Record<StreamType, Buffer> = {
  1: Buffer.from('{"type":"log","stream":"stdout","line":"'),
  2: Buffer.from('{"type":"log","stream":"stderr","line":"'),
};
const TS = Buffer.from('","ts":"');
const END = Buffer.from('"}\n');
/** Room for a line's event around its text: the prefix, `","ts":"`, `"}\n`. */
const FRAMING = PREFIX[1].length + TS.length + END.length;
const BLOCK = 64 * 1024;
const SPACE = 0x20;
/** The digits of `YYYY-MM-DDT`. */
const DIGITS = [0, 1, 2, 3, 5, 6, 8, 9];

/**
 * Copies `bytes[start, end)` to `out` at `at` if JSON.stringify of the decoded text gives the same
 * bytes (no character to escape: nothing below U+0020, no `"` or `\`; valid UTF-8): the new position,
 * or -1 when the text takes the slow path.
 */
function copyPlain(bytes: Buffer, start: number, end: number, out: Buffer, at: number): number {
  let o = at;
  let bits = 0;
  for (let i = start; i < end; i++) {
    const b = bytes[i] as number;
    if (b < 0x20 || b === 0x22 || b === 0x5c) return -1;
    bits |= b;
    out[o++] = b;
  }
  // Non-ASCII text is copied as it is when it is valid UTF-8 (invalid bytes decode to U+FFFD).
  if (bits & 0x80 && !isUtf8(bytes.subarray(start, end))) return -1;
  return o;
}

/** Where the engine's timestamp ends (the first space), if the line starts with one; else -1. */
function timestampEnd(bytes: Buffer, start: number, end: number): number {
  if (end - start < 11 || bytes[start + 4] !== 0x2d || bytes[start + 7] !== 0x2d || bytes[start + 10] !== 0x54) {
    return -1;
  }
  for (let i = 0; i < DIGITS.length; i++) {
    const b = bytes[start + (DIGITS[i] as number)] as number;
    if (b < 0x30 || b > 0x39) return -1;
  }
  const space = bytes.indexOf(SPACE, start + 11);
  return space === -1 || space >= end ? -1 : space;
}

/**
 * A container log stream as the NDJSON of its `log` events, `{type, stream, line, ts?}`: the same
 * bytes as JSON.stringify of each event, written straight from the engine's chunks into one buffer
 * per engine read. A line with nothing to escape (nearly all) is copied byte for byte; any other
 * line (quotes, control characters, invalid UTF-8) is decoded and goes through JSON.stringify.
 */
export async function* logNdjson(source: EngineBody, format: LogFormat): AsyncGenerator<NdjsonBytes> {
  const decoder = new TextDecoder();
  let out = Buffer.allocUnsafe(BLOCK);
  /** Written bytes not handed over yet: out[from, at). */
  let from = 0;
  let at = 0;
  const reserve = (bytes: number) => {
    if (out.length - at >= bytes) return;
    const next = Buffer.allocUnsafe(Math.max(BLOCK, at - from + bytes));
    out.copy(next, 0, from, at);
    at -= from;
    from = 0;
    out = next;
  };

  const demuxer = new LogDemuxer(format, (stream, bytes, start, end) => {
    reserve(end - start + FRAMING);
    const lineStart = at;
    let text = start;
    let ts = -1;
    if (format.timestamps) {
      ts = timestampEnd(bytes, start, end);
      if (ts !== -1) text = ts + 1;
    }
    out.set(PREFIX[stream], at);
    let o = copyPlain(bytes, text, end, out, at + PREFIX[stream].length);
    if (o !== -1 && ts !== -1) {
      out.set(TS, o);
      o = copyPlain(bytes, start, ts, out, o + TS.length);
    }
    if (o !== -1) {
      out.set(END, o);
      at = o + END.length;
      return;
    }
    at = lineStart;
    const l = toLogLine(stream, decoder.decode(bytes.subarray(start, end)), format.timestamps);
    const json = `{"type":"log","stream":"${l.stream}","line":${JSON.stringify(l.line)}${
      l.ts === undefined ? '' : `,"ts":${JSON.stringify(l.ts)}`
    }}\n`;
    reserve(Buffer.byteLength(json));
    at += out.write(json, at);
  });

  const take = () => {
    const bytes = out.subarray(from, at);
    from = at;
    return new NdjsonBytes(bytes);
  };
  for await (const chunks of source) {
    for (const chunk of chunks) demuxer.push(chunk);
    if (at > from) yield take();
  }
  demuxer.end();
  if (at > from) yield take();
}
