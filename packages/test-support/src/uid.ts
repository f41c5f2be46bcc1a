import { randomBytes } from 'node:crypto';

/** An id unique within the run (a merchant_uid, customer_uid, ...), so tests sharing one emulator never collide. */
export function uid(prefix = 'order'): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}
