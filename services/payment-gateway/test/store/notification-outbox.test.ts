import type { KyselyPlugin } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  claimDeliveries,
  findDueDeliveries,
  recordAttempts,
} from '../../src/store/notification-delivery.repository.ts';
import { createEndpoint, updateEndpoint } from '../../src/store/notification-endpoint.repository.ts';
import { enqueueEvent, type NewEvent } from '../../src/store/notification-event.repository.ts';
import { type MigratedStore, migratedStore, storeTargets } from './store-targets.ts';

const targets = await storeTargets();
const event = (n: number): NewEvent => ({
  type: 'payment.paid',
  subject: `payment:imp_outbox_${n}`,
  cause: 'webhook',
  data: { imp_uid: `imp_outbox_${n}` },
});

describe.each(targets)('the notification outbox on $name', (target) => {
  let store: MigratedStore;
  let statements = 0;
  const counter: KyselyPlugin = {
    // Once per statement executed (a query's subqueries are transformed too, so not transformQuery).
    transformQuery: (args) => args.node,
    transformResult: async (args) => {
      statements += 1;
      return args.result;
    },
  };
  beforeAll(async () => {
    store = await migratedStore(target);
  });
  afterEach(async () => {
    await store.db.deleteFrom('notification_deliveries').execute();
    await store.db.deleteFrom('notification_events').execute();
    await store.db.deleteFrom('notification_endpoints').execute();
  });
  afterAll(async () => {
    await store?.close();
  });

  /** enqueueEvent in its own transaction, counting the statements it sends. */
  const enqueue = async (e: NewEvent, now = new Date()) => {
    statements = 0;
    return store.db
      .withPlugin(counter)
      .transaction()
      .execute((trx) => enqueueEvent(trx, e, now));
  };

  it('with no endpoint enabled, writes nothing in one statement', async () => {
    const off = await createEndpoint(store.db, { url: 'http://127.0.0.1:9/off', secrets: ['whsec_x'], source: 'api' });
    await updateEndpoint(store.db, off.id, { enabled: false });
    expect(await enqueue(event(1))).toBeUndefined();
    expect(statements).toBe(1);
    expect(await store.db.selectFrom('notification_events').selectAll().execute()).toEqual([]);
    expect(await store.db.selectFrom('notification_deliveries').selectAll().execute()).toEqual([]);
  });

  it('writes the event and one pending delivery per enabled endpoint in two statements', async () => {
    const a = await createEndpoint(store.db, { url: 'http://127.0.0.1:9/a', secrets: ['whsec_a'], source: 'api' });
    const b = await createEndpoint(store.db, { url: 'http://127.0.0.1:9/b', secrets: ['whsec_b'], source: 'api' });
    const off = await createEndpoint(store.db, { url: 'http://127.0.0.1:9/c', secrets: ['whsec_c'], source: 'api' });
    await updateEndpoint(store.db, off.id, { enabled: false });
    const now = new Date('2026-03-03T03:03:03.333Z');
    const eventId = await enqueue(event(2), now);
    expect(statements).toBe(2);
    const [stored] = await store.db.selectFrom('notification_events').selectAll().execute();
    expect(Number(stored?.id)).toBe(eventId);
    expect(stored).toMatchObject({ type: 'payment.paid', subject: 'payment:imp_outbox_2', cause: 'webhook' });
    expect(stored?.message_id).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(JSON.parse(stored?.payload ?? '')).toEqual({
      type: 'payment.paid',
      timestamp: now.toISOString(),
      data: { imp_uid: 'imp_outbox_2', cause: 'webhook' },
    });
    const deliveries = await store.db
      .selectFrom('notification_deliveries')
      .select(['event_id', 'endpoint_id', 'subject', 'status', 'attempts'])
      .orderBy('endpoint_id')
      .execute();
    expect(deliveries.map((d) => ({ ...d, event_id: Number(d.event_id) }))).toEqual(
      [a.id, b.id].sort().map((endpoint_id) => ({
        event_id: eventId,
        endpoint_id,
        subject: 'payment:imp_outbox_2',
        status: 'pending',
        attempts: 0,
      })),
    );
  });

  it('rolls back with the change it belongs to', async () => {
    await createEndpoint(store.db, { url: 'http://127.0.0.1:9/a', secrets: ['whsec_a'], source: 'api' });
    await expect(
      store.db.transaction().execute(async (trx) => {
        await enqueueEvent(trx, event(3));
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(await store.db.selectFrom('notification_events').selectAll().execute()).toEqual([]);
    expect(await store.db.selectFrom('notification_deliveries').selectAll().execute()).toEqual([]);
  });

  it('claims a group in one statement; a concurrent claimer wins only what is left; outcomes in one statement', async () => {
    await createEndpoint(store.db, { url: 'http://127.0.0.1:9/a', secrets: ['whsec_a'], source: 'api' });
    for (const n of [10, 11, 12, 13]) await enqueue(event(n));
    const due = await findDueDeliveries(store.db, new Date(Date.now() + 1000), 10);
    const ids = due.map((d) => d.id);
    expect(ids).toHaveLength(4);
    const counted = store.db.withPlugin(counter);
    statements = 0;
    const first = await claimDeliveries(counted, ids.slice(0, 2), 60_000, new Date());
    expect(first.ids).toEqual(ids.slice(0, 2));
    expect(statements).toBe(1);
    // Another replica asks for all four: the two held by a live claim are not its.
    const second = await claimDeliveries(store.db, ids, 60_000, new Date());
    expect(second.ids).toEqual(ids.slice(2));
    expect(second.token).not.toBe(first.token);
    expect(await claimDeliveries(store.db, ids, 60_000, new Date())).toMatchObject({ ids: [] });

    // Only the holder's outcomes count; same outcomes are one UPDATE.
    const at = new Date();
    const delivered = (id: number) => ({ id, status: 'delivered' as const, statusCode: 204, error: null });
    expect(await recordAttempts(store.db, second.token, at, first.ids.map(delivered))).toBe(0);
    statements = 0;
    expect(await recordAttempts(counted, first.token, at, first.ids.map(delivered))).toBe(2);
    expect(statements).toBe(1);
    const retry = new Date(at.getTime() + 5000);
    expect(
      await recordAttempts(store.db, second.token, at, [
        delivered(ids[2]!),
        { id: ids[3]!, status: 'pending', statusCode: 500, error: 'HTTP 500', nextAttemptAt: retry },
      ]),
    ).toBe(2);
    const rows = await store.db
      .selectFrom('notification_deliveries')
      .select(['id', 'status', 'attempts', 'last_status_code', 'claimed_until', 'claim_token'])
      .orderBy('id')
      .execute();
    expect(rows.map((r) => [r.status, r.attempts, r.last_status_code, r.claimed_until, r.claim_token])).toEqual([
      ['delivered', 1, 204, null, null],
      ['delivered', 1, 204, null, null],
      ['delivered', 1, 204, null, null],
      ['pending', 1, 500, null, null],
    ]);
    // Released: the pending one can be claimed again once due.
    expect((await claimDeliveries(store.db, [ids[3]!], 60_000, retry)).ids).toEqual([ids[3]]);
  });
});
