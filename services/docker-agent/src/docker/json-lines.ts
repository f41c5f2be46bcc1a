import type { Readable } from 'node:stream';

/** Docker's progress streams (pull, build): JSON objects, one per line. */
export async function* jsonLines(source: Readable): AsyncGenerator<Record<string, unknown>> {
  let buffered = '';
  for await (const chunk of source as AsyncIterable<Buffer | string>) {
    buffered += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    let nl = buffered.indexOf('\n');
    while (nl >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (line) yield JSON.parse(line) as Record<string, unknown>;
      nl = buffered.indexOf('\n');
    }
  }
  if (buffered.trim()) yield JSON.parse(buffered) as Record<string, unknown>;
}
