import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deletePortOneCallsBefore, insertPortOneCall } from '../../src/store/portone-call.repository.ts';
import { deleteWebhookDeliveriesBefore, insertWebhookDelivery } from '../../src/store/webhook.repository.ts';
import { type MigratedStore, migratedStore, storeTargets } from './store-targets.ts';

const targets = await storeTargets();
const day = (n: number) => new Date(Date.UTC(2026, 0, n, 12));

describe.each(targets)('retention deletes on $name', (target) => {
  let store: MigratedStore;
  beforeAll(async () => {
    store = await migratedStore(target);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('deletes webhook deliveries received before the cutoff, oldest first, at most a batch per call', async () => {
    // Inserted out of order: the batch follows received_at, not the id.
    for (const n of [5, 1, 4, 2, 3, 20, 21]) {
      await insertWebhookDelivery(store.db, {
        rawBody: '{}',
        impUid: `imp_ret_${n}`,
        status: 'paid',
        receivedAt: day(n),
      });
    }
    const left = async () =>
      (await store.db.selectFrom('webhook_deliveries').select('imp_uid').orderBy('received_at').execute()).map(
        (r) => r.imp_uid,
      );
    expect(await deleteWebhookDeliveriesBefore(store.db, day(10), 2)).toBe(2);
    expect(await left()).toEqual(['imp_ret_3', 'imp_ret_4', 'imp_ret_5', 'imp_ret_20', 'imp_ret_21']);
    expect(await deleteWebhookDeliveriesBefore(store.db, day(10), 2)).toBe(2);
    expect(await deleteWebhookDeliveriesBefore(store.db, day(10), 2)).toBe(1);
    expect(await deleteWebhookDeliveriesBefore(store.db, day(10), 2)).toBe(0);
    expect(await left()).toEqual(['imp_ret_20', 'imp_ret_21']);
  });

  it('deletes PortOne call rows made before the cutoff the same way', async () => {
    for (const n of [3, 1, 2, 15]) {
      await insertPortOneCall(store.db, {
        at: day(n),
        operation: `op_${n}`,
        method: 'GET',
        path: '/payments/{imp_uid}',
        durationMs: 1,
        attempt: 1,
        outcome: 'ok',
      });
    }
    expect(await deletePortOneCallsBefore(store.db, day(10), 2)).toBe(2);
    expect(await deletePortOneCallsBefore(store.db, day(10), 2)).toBe(1);
    expect(await deletePortOneCallsBefore(store.db, day(10), 2)).toBe(0);
    const left = await store.db.selectFrom('portone_calls').select('operation').execute();
    expect(left).toEqual([{ operation: 'op_15' }]);
  });
});
