export interface GroupCommitOptions<T, R> {
  /** Stores several items all or nothing (one statement, one commit); answers in their order. */
  many(items: T[]): Promise<R[]>;
  /** Stores one item: a lone one, and each member of a group `many` refused. */
  one(item: T): Promise<R>;
  /** Writes under way at once; items arriving meanwhile wait and go together in the next one. */
  concurrency: number;
  /** Items one write takes at most. */
  maxBatch: number;
  /** `many` refused a group (its members are then stored one by one). */
  onGroupError?(error: unknown, size: number): void;
}

interface Waiting<T, R> {
  item: T;
  resolve(result: R): void;
  reject(error: unknown): void;
}

/**
 * Group commit: `store(item)` resolves once the item is committed, as a lone write would, but items
 * that arrive while `concurrency` writes are under way are queued and then written together, so a
 * burst costs a few commits instead of one per item. An idle store writes at once (no timer, no
 * added latency). A group `many` refuses is retried member by member with `one`, so one bad item
 * fails only its own caller and the others are still stored (and acknowledged) on their own.
 */
export function groupCommit<T, R>(options: GroupCommitOptions<T, R>): (item: T) => Promise<R> {
  const queue: Waiting<T, R>[] = [];
  let writing = 0;

  const settle = async (waiting: Waiting<T, R>, store: (item: T) => Promise<R>) => {
    try {
      waiting.resolve(await store(waiting.item));
    } catch (error) {
      waiting.reject(error);
    }
  };

  async function write(group: Waiting<T, R>[]): Promise<void> {
    if (group.length === 1) return settle(group[0]!, options.one);
    let results: R[];
    try {
      results = await options.many(group.map((w) => w.item));
    } catch (error) {
      options.onGroupError?.(error, group.length);
      await Promise.all(group.map((w) => settle(w, options.one)));
      return;
    }
    for (const [i, w] of group.entries()) w.resolve(results[i]!);
  }

  function next(): void {
    while (writing < options.concurrency && queue.length > 0) {
      writing += 1;
      const group = queue.splice(0, options.maxBatch);
      write(group)
        // Nothing is left waiting for ever: settling a caller twice changes nothing.
        .catch((error: unknown) => {
          for (const w of group) w.reject(error);
        })
        .finally(() => {
          writing -= 1;
          next();
        });
    }
  }

  return (item) =>
    new Promise<R>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      next();
    });
}
