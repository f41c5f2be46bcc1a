import { LRUCache } from 'lru-cache';

/**
 * For recently looked-up payments, PortOne's payload as this process last saw it in the store
 * (`payments.raw`, written or found equal). A lookup whose answer is that same payload skips the
 * store: every stored column derives from the payload, so there is nothing to write, and the read
 * that would tell us so is what a hot lookup paid for most. Any difference (a new status, a cancel,
 * a payment not seen yet, an entry evicted) goes through the store as before, so a changed payment
 * is still stored before it is answered. PortOne is still asked every time: only our own write is
 * known here, never PortOne's answer.
 */
export class StoredSnapshots {
  readonly #raw: LRUCache<string, string>;

  constructor(max = 2000) {
    this.#raw = new LRUCache({ max });
  }

  /** True when `raw` is what the store held for `impUid` the last time this process looked. */
  has(impUid: string, raw: string): boolean {
    return this.#raw.get(impUid) === raw;
  }

  remember(impUid: string, raw: string): void {
    this.#raw.set(impUid, raw);
  }
}
