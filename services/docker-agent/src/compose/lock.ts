import { ProjectBusyError } from '../errors.ts';

/**
 * One change at a time per project: saving its files, `up`, `down`, `restart`, `pull`, removing it.
 * A second change while one runs is refused (409 PROJECT_BUSY) rather than queued: the caller
 * decides whether to retry, and a slow `up` never piles up requests behind it. In-process only; one
 * agent owns its compose directory.
 */
export class ProjectLocks {
  readonly #held = new Set<string>();

  /** Takes the lock or throws; the returned function releases it (once). */
  acquire(name: string, doing: string): () => void {
    if (this.#held.has(name)) {
      throw new ProjectBusyError(`compose project "${name}" is being changed by another request; retry ${doing} later`);
    }
    this.#held.add(name);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#held.delete(name);
    };
  }

  /** Runs `work` under the project's lock. */
  async with<T>(name: string, doing: string, work: () => Promise<T>): Promise<T> {
    const release = this.acquire(name, doing);
    try {
      return await work();
    } finally {
      release();
    }
  }
}

/**
 * Consumes `source` to its end whether or not anyone reads the result, then calls `done`. A compose
 * change runs to completion even if the caller leaves (the CLI is never stalled on a full pipe), and
 * the project's lock is released when the CLI exits, not when a reader stops reading.
 */
export function runToEnd<T>(source: AsyncIterable<T>, done: () => void): AsyncIterable<T> {
  const queue: T[] = [];
  let finished = false;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  void (async () => {
    try {
      for await (const item of source) {
        queue.push(item);
        wake?.();
      }
    } catch (error) {
      failure = { error };
    } finally {
      finished = true;
      done();
      wake?.();
    }
  })();
  return {
    async *[Symbol.asyncIterator]() {
      for (;;) {
        const next = queue.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        if (failure) throw failure.error;
        if (finished) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    },
  };
}
