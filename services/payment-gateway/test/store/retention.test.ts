import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deletePortOneCallsBefore, insertPortOneCall } from '../../src/store/portone-call.repository.ts';
import {
  deleteReconciliationChangesBefore,
  deleteReconciliationRunsBefore,
  finishRun,
  recordChange,
  startRun,
} from '../../src/store/reconciliation.repository.ts';
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

  it('deletes reconciliation runs started before the cutoff, their changes first, a batch per call', async () => {
    const run = async (n: number, changes: number) => {
      const id = await startRun(store.db, {
        holder: `h${n}`,
        windowFrom: day(n - 1),
        windowTo: day(n),
        startedAt: day(n),
      });
      for (let i = 0; i < changes; i++) {
        await recordChange(store.db, id, {
          impUid: `imp_rc_${n}_${i}`,
          merchantUid: `order_rc_${n}_${i}`,
          fromStatus: 'ready',
          toStatus: 'paid',
          fromCancelAmount: 0,
          toCancelAmount: 0,
          reason: 'recheck',
          at: day(n),
        });
      }
      if (n !== 2)
        await finishRun(store.db, id, {
          status: 'succeeded',
          rechecked: changes,
          swept: 0,
          changed: changes,
          discovered: 0,
          errors: 0,
        });
      return id;
    };
    // Run 2 never finished (its replica died): past the cutoff it goes too.
    const [, , , kept] = [await run(1, 3), await run(2, 0), await run(3, 1), await run(20, 2)];
    const runsLeft = async () =>
      (await store.db.selectFrom('reconciliation_runs').select('id').orderBy('id').execute()).map((r) => Number(r.id));
    const changesLeft = async () =>
      (await store.db.selectFrom('reconciliation_changes').select('imp_uid').orderBy('id').execute()).map(
        (r) => r.imp_uid,
      );

    // Runs with changes left are kept until their changes are gone.
    expect(await deleteReconciliationRunsBefore(store.db, day(10), 10)).toBe(1);
    expect(await deleteReconciliationChangesBefore(store.db, day(10), 2)).toBe(2);
    expect(await changesLeft()).toEqual(['imp_rc_1_2', 'imp_rc_3_0', 'imp_rc_20_0', 'imp_rc_20_1']);
    expect(await deleteReconciliationChangesBefore(store.db, day(10), 2)).toBe(2);
    expect(await deleteReconciliationChangesBefore(store.db, day(10), 2)).toBe(0);
    expect(await deleteReconciliationRunsBefore(store.db, day(10), 1)).toBe(1);
    expect(await deleteReconciliationRunsBefore(store.db, day(10), 1)).toBe(1);
    expect(await deleteReconciliationRunsBefore(store.db, day(10), 1)).toBe(0);
    expect(await runsLeft()).toEqual([kept]);
    expect(await changesLeft()).toEqual(['imp_rc_20_0', 'imp_rc_20_1']);
  });
});
