import { describe, expect, it } from 'vitest';
import { logNdjson } from '../../src/streams/log-ndjson.ts';

const frame = (stream: 1 | 2, payload: Buffer) => {
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
};

/** The bytes cut into reads at `cuts`, each read as the engine stream hands it over. */
async function encode(bytes: Buffer, cuts: number[], format: { tty: boolean; timestamps: boolean }) {
  const reads = (async function* () {
    let from = 0;
    for (const cut of [...cuts, bytes.length]) {
      yield [bytes.subarray(from, cut)];
      from = cut;
    }
  })();
  const out: Buffer[] = [];
  for await (const b of logNdjson(reads, format)) out.push(Buffer.from(b.bytes));
  // Byte for byte (latin1): a UTF-8 decoding would hide invalid bytes passed through.
  return Buffer.concat(out).toString('latin1');
}

/** What JSON.stringify gives for each line's event, the line decoded as UTF-8 (U+FFFD for bad bytes). */
function expected(lines: { stream: 'stdout' | 'stderr'; bytes: Buffer }[], timestamps: boolean) {
  return lines
    .map(({ stream, bytes }) => {
      const text = new TextDecoder().decode(bytes);
      const space = text.indexOf(' ');
      const event =
        timestamps && space > 0 && /^\d{4}-\d{2}-\d{2}T/.test(text)
          ? { type: 'log', stream, line: text.slice(space + 1), ts: text.slice(0, space) }
          : { type: 'log', stream, line: text };
      return `${JSON.stringify(event)}\n`;
    })
    .join('');
}

const latin1 = (text: string) => Buffer.from(text).toString('latin1');

const samples = [
  'plain ascii line 0123456789',
  'say "hi"',
  'back\\slash',
  'control\u0001character',
  'tab\there, bell\u0007, del\u007f',
  'ünïcødé ✓ 가격 €',
  '',
  '2026-01-01T00:00:00.000000001Z with a timestamp',
  '2026-01-01T00:00:00.000000001Z "quoted" after a timestamp',
  '2026-01-01T00:00:00Z',
  '2026-01-0xT00:00:00Z not a timestamp',
  '1999-12-31T23:59:59Z ü',
].map((s) => Buffer.from(s));
const invalid = Buffer.from([0x61, 0xff, 0x62, 0xe2, 0x82, 0x63]); // a, bad byte, b, a cut 3-byte character, c

describe('log lines as NDJSON bytes', () => {
  for (const timestamps of [false, true]) {
    it(`writes the bytes JSON.stringify gives for every line (timestamps=${timestamps}), however the reads are cut`, async () => {
      const lines = [...samples, invalid].map((bytes, i) => ({ stream: i % 3 ? 'stdout' : 'stderr', bytes }) as const);
      // Each line its own frame, CR LF on some; then two lines in one frame; then one line across three frames.
      const body = Buffer.concat([
        ...lines.map((l, i) =>
          frame(l.stream === 'stdout' ? 1 : 2, Buffer.concat([l.bytes, Buffer.from(i % 2 ? '\r\n' : '\n')])),
        ),
        frame(1, Buffer.from('first\nsecond\n')),
        frame(1, Buffer.from('spl')),
        frame(2, Buffer.from('between\n')),
        frame(1, Buffer.from('it ü')),
        frame(1, Buffer.from('\n')),
        frame(2, Buffer.from('no newline at end')),
      ]);
      const want = latin1(
        expected(
          [
            ...lines,
            { stream: 'stdout', bytes: Buffer.from('first') },
            { stream: 'stdout', bytes: Buffer.from('second') },
            { stream: 'stderr', bytes: Buffer.from('between') },
            { stream: 'stdout', bytes: Buffer.from('split ü') },
            { stream: 'stderr', bytes: Buffer.from('no newline at end') },
          ],
          timestamps,
        ),
      );
      expect(await encode(body, [], { tty: false, timestamps })).toBe(want);
      // Reads cut everywhere: inside headers, inside characters, between every byte.
      const everyByte = Array.from({ length: body.length - 1 }, (_, i) => i + 1);
      expect(await encode(body, everyByte, { tty: false, timestamps })).toBe(want);
      for (let seed = 1; seed < 20; seed++) {
        const cuts = Array.from({ length: 12 }, (_, i) =>
          Math.floor((((seed * 7919 * (i + 1)) % 1000) / 1000) * body.length),
        );
        const sorted = [...new Set(cuts)].filter((c) => c > 0).sort((a, b) => a - b);
        expect(await encode(body, sorted, { tty: false, timestamps })).toBe(want);
      }
    });
  }

  it('reads TTY output raw, as stdout', async () => {
    const body = Buffer.from('one\r\ntwo "2"\nthree');
    expect(await encode(body, [2, 9], { tty: true, timestamps: false })).toBe(
      latin1(
        expected(
          ['one', 'two "2"', 'three'].map((s) => ({ stream: 'stdout', bytes: Buffer.from(s) })),
          false,
        ),
      ),
    );
  });

  it('keeps lines longer than its 64 KiB block whole', async () => {
    const long = Buffer.from('x'.repeat(200_000));
    const body = Buffer.concat([frame(1, Buffer.concat([long, Buffer.from('\n')])), frame(2, Buffer.from('after\n'))]);
    expect(await encode(body, [70_000], { tty: false, timestamps: false })).toBe(
      latin1(
        expected(
          [
            { stream: 'stdout', bytes: long },
            { stream: 'stderr', bytes: Buffer.from('after') },
          ],
          false,
        ),
      ),
    );
  });
});
