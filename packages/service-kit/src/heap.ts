import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * One full, memory-reducing garbage collection, for when start-up is over. Loading and compiling the
 * modules leaves garbage in the old generation and grows the young generation to its maximum, and V8
 * keeps both until load makes it collect: ~15 MiB of an idle service's RSS (bench/RESULTS.md). A
 * "last resort" collection frees that garbage and shrinks the young generation to 1 MiB; under load it
 * grows back to `--max-semi-space-size`. Takes ~20-50 ms, once.
 *
 * The `gc` function is taken from a fresh context with `--expose-gc` set only for that moment (as
 * Jest's leak detector does), so no global `gc` is left for other code and no start flag is needed.
 */
export function releaseStartupMemory(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;
  setFlagsFromString('--no-expose-gc');
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}
