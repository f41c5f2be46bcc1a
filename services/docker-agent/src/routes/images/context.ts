import { createWriteStream } from 'node:fs';
import { type FileHandle, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { BuildContextInvalidError, ContextTooLargeError } from '../../errors.ts';

/** Counts the uploaded context and fails it (413) past the limit, whatever Content-Length said. */
function limitBytes(max: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, callback) {
      seen += chunk.length;
      if (seen > max) callback(new ContextTooLargeError(`build context exceeds ${max} bytes`));
      else callback(null, chunk);
    },
  });
}

/**
 * Writes the uploaded context to a private temporary file (so that its Dockerfile can be checked
 * before the engine sees any of it) and answers an open handle to it; the file itself is unlinked at
 * once, so nothing is left behind however the build ends. Memory stays flat whatever the size.
 */
export async function spoolContext(context: Readable, maxBytes: number, signal: AbortSignal): Promise<FileHandle> {
  const dir = await mkdtemp(join(tmpdir(), 'docker-agent-build-'));
  try {
    const path = join(dir, 'context');
    await pipeline(context, limitBytes(maxBytes), createWriteStream(path, { mode: 0o600 }), { signal });
    return await open(path, 'r');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const entryName = (name: string) => posix.normalize(name).replace(/^(\.\/|\/)+/, '');

/** The text of `dockerfile` inside a spooled (optionally gzipped) tar context, as the engine will read it. */
export async function readDockerfile(handle: FileHandle, dockerfile: string): Promise<string> {
  const magic = Buffer.alloc(2);
  await handle.read(magic, 0, 2, 0);
  const gzipped = magic[0] === 0x1f && magic[1] === 0x8b;
  // Like the engine: the default name falls back to its lower-case spelling.
  const names = [entryName(dockerfile), ...(dockerfile === 'Dockerfile' ? ['dockerfile'] : [])];
  const { extract } = await import('tar-stream'); // loaded by the build route only
  const archive = extract();
  const found = new Map<string, { text?: string; link?: boolean }>();
  const reading = (async () => {
    // A later entry of the same name replaces an earlier one when the engine unpacks, so the last one counts.
    for await (const entry of archive) {
      const name = entryName(entry.header.name);
      if (!names.includes(name)) {
        entry.resume();
        continue;
      }
      if (entry.header.type === 'symlink' || entry.header.type === 'link') {
        found.set(name, { link: true });
        entry.resume();
        continue;
      }
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      found.set(name, { text: Buffer.concat(chunks).toString('utf8') });
    }
  })();
  const source = handle.createReadStream({ start: 0, autoClose: false });
  try {
    await Promise.all([gzipped ? pipeline(source, createGunzip(), archive) : pipeline(source, archive), reading]);
  } catch (error) {
    throw new BuildContextInvalidError(`the build context is not a readable tar archive: ${(error as Error).message}`);
  }
  const file = names.map((n) => found.get(n)).find(Boolean);
  if (file?.link) throw new BuildContextInvalidError(`"${dockerfile}" is a link inside the build context`);
  if (file?.text === undefined) {
    throw new BuildContextInvalidError(`the build context has no "${dockerfile}"`);
  }
  return file.text;
}
