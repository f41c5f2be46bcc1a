import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually } from './eventually.ts';

/** The repository root: spawned services are the built ones under it (`pnpm build` first, as CI does). */
export const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

export interface SpawnedService {
  child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** The exit code (null when ended by a signal). */
  exited: Promise<number | null>;
  /** Waits until the output matches, and answers the match. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

/**
 * `node <script>` (relative to the repository root) as a real process, with exactly `env` (nothing of
 * the test's own environment but PATH and HOME) and `cwd` as its working directory.
 */
export function spawnService(script: string, options: { cwd: string; env: Record<string, string> }): SpawnedService {
  const child = spawn(process.execPath, [join(REPO_ROOT, script)], {
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
  });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => text,
    exited,
    waitFor: (pattern, timeoutMs = 30_000) => eventually(() => text.match(pattern) ?? false, timeoutMs),
  };
}
