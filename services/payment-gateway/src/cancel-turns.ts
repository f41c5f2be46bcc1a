/**
 * Hands a payment's cancel claim on inside one process: a cancel that releases the claim wakes the
 * longest-waiting local cancel of that payment at once, as a row lock's queue would, instead of
 * leaving it to its next poll. Cancels in other processes still find the claim free by polling.
 */
export class CancelTurns {
  readonly #waiting = new Map<string, (() => void)[]>();

  /** Resolves when a local cancel releases `impUid`'s claim, or after `ms`, whichever comes first. */
  wait(impUid: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const queue = this.#waiting.get(impUid) ?? [];
      this.#waiting.set(impUid, queue);
      const wake = () => {
        clearTimeout(timer);
        const at = queue.indexOf(wake);
        if (at >= 0) queue.splice(at, 1);
        if (queue.length === 0 && this.#waiting.get(impUid) === queue) this.#waiting.delete(impUid);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      queue.push(wake);
    });
  }

  /** The claim on `impUid` was released here: the next local waiter tries for it now. */
  released(impUid: string): void {
    this.#waiting.get(impUid)?.[0]?.();
  }
}
