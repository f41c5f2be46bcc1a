import { realpath } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

/**
 * Where a host path really points: `..` normalised away, then the longest prefix that exists
 * resolved through its symlinks, with the rest (which does not exist yet, so cannot be a link)
 * appended. Docker creates missing bind sources, so a path that does not exist still has to be
 * judged by where it would land.
 */
export async function resolveHostPath(path: string): Promise<string> {
  let existing = resolve('/', path);
  const rest: string[] = [];
  for (;;) {
    try {
      const real = await realpath(existing);
      return rest.length ? join(real, ...rest.reverse()) : real;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
      const parent = dirname(existing);
      if (parent === existing) return resolve('/', path);
      rest.push(basename(existing));
      existing = parent;
    }
  }
}

/** `child` is `parent` or lies below it. */
export function isWithin(child: string, parent: string): boolean {
  if (parent === '/') return true;
  return child === parent || child.startsWith(`${parent}/`);
}
