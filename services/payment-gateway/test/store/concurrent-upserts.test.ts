import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertBillingKey } from '../../src/store/billing-key.repository.ts';
import { upsertPaymentFromPortOne } from '../../src/store/payment.repository.ts';
import { savePrepared } from '../../src/store/prepared.repository.ts';
import { type MigratedStore, migratedStore, portonePayment, storeTargets } from './store-targets.ts';

const targets = await storeTargets();

/**
 * Found by the SIGTERM test: 20 concurrent prepares of new merchant_uids deadlocked on MariaDB
 * (UPDATE of a missing row takes a gap lock; the INSERTs that follow wait on each other's gaps) and
 * answered 500 after the transaction retries ran out. New rows are inserted first now.
 */
describe.each(targets)('concurrent first writes on $name', (target) => {
  let store: MigratedStore;
  beforeAll(async () => {
    store = await migratedStore(target);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('40 parallel prepares of new merchant_uids and 40 new billing keys all succeed', async () => {
    const results = await Promise.allSettled([
      ...Array.from({ length: 40 }, (_, i) => savePrepared(store.db, { merchantUid: `cc_${i}`, amount: 100 + i })),
      ...Array.from({ length: 40 }, (_, i) => upsertBillingKey(store.db, { customer_uid: `cc_cust_${i}` })),
    ]);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const again = await savePrepared(store.db, { merchantUid: 'cc_3', amount: 999 });
    expect(again.amount).toBe(999);
  });

  it('5 rounds of 80 parallel first sightings of payments (20 of them seen twice at once) are all stored', async () => {
    // Found by the PortOne-faults load test: a locking read of a missing payment took a gap lock, and
    // first inserts of different payments into that gap deadlocked until the retries ran out (500).
    for (let round = 0; round < 5; round++) {
      const payments = Array.from({ length: 60 }, () => portonePayment({ status: 'paid' }));
      const results = await Promise.allSettled(
        [...payments, ...payments.slice(0, 20)].map((p) => upsertPaymentFromPortOne(store.db, p)),
      );
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      const stored = await store.db
        .selectFrom('payments')
        .select('imp_uid')
        .where(
          'imp_uid',
          'in',
          payments.map((p) => p.imp_uid),
        )
        .execute();
      expect(stored).toHaveLength(60);
    }
  });
});
