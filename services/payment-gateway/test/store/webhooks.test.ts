import type { KyselyPlugin } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  getWebhookDelivery,
  insertWebhookDelivery,
  listUnprocessedWebhooks,
  markWebhookProcessed,
  webhookDedupeKey,
} from '../../src/store/webhook.repository.ts';
import { type MigratedStore, migratedStore, storeTargets } from './store-targets.ts';

const targets = await storeTargets();
let n = 0;
const delivery = (fields: { impUid?: string; status?: string; cancellationId?: string } = {}) => {
  const impUid = fields.impUid ?? `imp_wh_${++n}_${Date.now()}`;
  const status = fields.status ?? 'paid';
  const body = { imp_uid: impUid, merchant_uid: `order_${impUid}`, status, cancellation_id: fields.cancellationId };
  return {
    sourceIp: '52.78.100.19',
    contentType: 'application/json',
    rawBody: JSON.stringify(body),
    impUid,
    merchantUid: body.merchant_uid,
    status,
    cancellationId: fields.cancellationId ?? null,
  };
};

/** Counts the statements that returned a result through the returned handle. */
function counted(db: MigratedStore['db']) {
  const counter = { statements: 0 };
  const plugin: KyselyPlugin = {
    // Once per statement executed (a query's subqueries are transformed too, so not transformQuery).
    transformQuery: (args) => args.node,
    transformResult: async (args) => {
      counter.statements += 1;
      return args.result;
    },
  };
  return { db: db.withPlugin(plugin), counter };
}

describe('webhookDedupeKey', () => {
  it('is sha256 of imp_uid|status|cancellation_id and absent without imp_uid or status', () => {
    const key = webhookDedupeKey({ impUid: 'imp_1', status: 'paid' });
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(webhookDedupeKey({ impUid: 'imp_1', status: 'paid', cancellationId: null })).toBe(key);
    expect(webhookDedupeKey({ impUid: 'imp_1', status: 'cancelled' })).not.toBe(key);
    expect(webhookDedupeKey({ impUid: 'imp_1', status: 'cancelled', cancellationId: 'c1' })).not.toBe(
      webhookDedupeKey({ impUid: 'imp_1', status: 'cancelled', cancellationId: 'c2' }),
    );
    expect(webhookDedupeKey({ status: 'paid' })).toBeNull();
  });
});

describe.each(targets)('webhook deliveries on $name', (target) => {
  let store: MigratedStore;
  beforeAll(async () => {
    store = await migratedStore(target);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('stores every delivery; once the first is confirmed (processed), a repeat is its duplicate', async () => {
    const d = delivery();
    const first = await insertWebhookDelivery(store.db, { ...d, receivedAt: new Date('2026-02-02T02:02:02.222Z') });
    expect(first).toMatchObject({ duplicate: false, duplicateOf: null });
    // Not confirmed yet: a copy is stored and processed on its own, never dismissed.
    const early = await insertWebhookDelivery(store.db, d);
    expect(early).toMatchObject({ duplicate: false, duplicateOf: null });
    expect(await getWebhookDelivery(store.db, early.id)).toMatchObject({ state: 'received' });
    await markWebhookProcessed(store.db, first.id, 'processed');
    const again = await insertWebhookDelivery(store.db, d);
    expect(again).toMatchObject({ duplicate: true, duplicateOf: first.id });
    expect(again.id).not.toBe(first.id);

    expect(await getWebhookDelivery(store.db, first.id)).toMatchObject({
      state: 'processed',
      rawBody: d.rawBody,
      sourceIp: '52.78.100.19',
      impUid: d.impUid,
      receivedAt: new Date('2026-02-02T02:02:02.222Z'),
      attempts: 1,
    });
    expect(await getWebhookDelivery(store.db, again.id)).toMatchObject({ state: 'duplicate', duplicateOf: first.id });

    // A new status, or another partial cancel, is a new event.
    const c1 = await insertWebhookDelivery(store.db, { ...d, status: 'cancelled', cancellationId: 'c1' });
    const c2 = await insertWebhookDelivery(store.db, { ...d, status: 'cancelled', cancellationId: 'c2' });
    expect([c1.duplicate, c2.duplicate]).toEqual([false, false]);
    await markWebhookProcessed(store.db, c2.id, 'processed');
    expect((await insertWebhookDelivery(store.db, { ...d, status: 'cancelled', cancellationId: 'c2' })).duplicate).toBe(
      true,
    );
  });

  it('a delivery PortOne did not confirm keeps no claim: a later copy is processed, not a duplicate', async () => {
    for (const end of ['forged', 'ignored', 'sandbox', 'failed'] as const) {
      const d = delivery({ status: 'cancelled' });
      const first = await insertWebhookDelivery(store.db, d);
      await markWebhookProcessed(store.db, first.id, end);
      const genuine = await insertWebhookDelivery(store.db, d);
      expect(genuine, end).toMatchObject({ duplicate: false, duplicateOf: null });
      await markWebhookProcessed(store.db, genuine.id, 'processed');
      expect((await insertWebhookDelivery(store.db, d)).duplicateOf, end).toBe(genuine.id);
    }
  });

  it('concurrent copies of one event: one claims, none is a duplicate of an unconfirmed claim', async () => {
    const d = delivery();
    const results = await Promise.all(Array.from({ length: 6 }, () => insertWebhookDelivery(store.db, d)));
    expect(results.every((r) => !r.duplicate)).toBe(true);
    const claims = await store.db
      .selectFrom('webhook_deliveries')
      .select('id')
      .where('dedupe_claim', 'is not', null)
      .where(
        'id',
        'in',
        results.map((r) => r.id),
      )
      .execute();
    expect(claims).toHaveLength(1);
    await markWebhookProcessed(store.db, claims[0]!.id as number, 'processed');
    const late = await Promise.all(Array.from({ length: 3 }, () => insertWebhookDelivery(store.db, d)));
    expect(late.every((r) => r.duplicate && r.duplicateOf === Number(claims[0]!.id))).toBe(true);
  });

  it('a copy of an event confirmed before is stored as its duplicate in one statement, with the same result', async () => {
    const d = delivery();
    const confirmed = new Map<string, number>();
    const first = await insertWebhookDelivery(store.db, d, confirmed);
    expect(first).toMatchObject({ duplicate: false, claim: webhookDedupeKey(d) });
    const early = await insertWebhookDelivery(store.db, d, confirmed);
    expect(early).toMatchObject({ duplicate: false, claim: null });
    expect(confirmed.size).toBe(0); // an unconfirmed claim is never remembered
    await markWebhookProcessed(store.db, first.id, 'processed');
    // The first copy after the confirmation learns it from the database …
    const { db, counter } = counted(store.db);
    expect(await insertWebhookDelivery(db, d, confirmed)).toMatchObject({ duplicate: true, duplicateOf: first.id });
    // (the claim that fails is not counted: only statements that return a result are)
    expect(counter.statements).toBe(2);
    expect(confirmed.get(webhookDedupeKey(d)!)).toBe(first.id);
    // … every later one is a single insert, stored exactly as before.
    counter.statements = 0;
    const later = await insertWebhookDelivery(db, d, confirmed);
    expect(later).toMatchObject({ duplicate: true, duplicateOf: first.id, claim: null });
    expect(counter.statements).toBe(1);
    expect(await getWebhookDelivery(store.db, later.id)).toMatchObject({
      state: 'duplicate',
      duplicateOf: first.id,
      impUid: d.impUid,
      rawBody: d.rawBody,
    });
  });

  it('a body without imp_uid is stored and never a duplicate', async () => {
    const garbage = { rawBody: 'not json', contentType: 'text/plain' };
    const a = await insertWebhookDelivery(store.db, garbage);
    const b = await insertWebhookDelivery(store.db, garbage);
    expect([a.duplicate, b.duplicate]).toEqual([false, false]);
  });

  it('markWebhookProcessed records state, attempts and outcome; failed lets a re-send through', async () => {
    const d = delivery();
    const first = await insertWebhookDelivery(store.db, d);
    const now = new Date('2026-03-03T03:03:03.333Z');
    expect(await markWebhookProcessed(store.db, first.id, 'failed', { error: 'PortOne 503', now })).toBe(true);
    expect(await getWebhookDelivery(store.db, first.id)).toMatchObject({
      state: 'failed',
      attempts: 1,
      error: 'PortOne 503',
      processedAt: now,
    });
    const resend = await insertWebhookDelivery(store.db, d);
    expect(resend.duplicate).toBe(false);
    await markWebhookProcessed(store.db, resend.id, 'processed', { outcome: { verified: true, amount: 8900 } });
    expect(await getWebhookDelivery(store.db, resend.id)).toMatchObject({
      state: 'processed',
      attempts: 1,
      outcome: { verified: true, amount: 8900 },
      error: null,
    });
    expect((await insertWebhookDelivery(store.db, d)).duplicateOf).toBe(resend.id);

    await markWebhookProcessed(store.db, first.id, 'forged', 'PortOne says ready');
    expect(await getWebhookDelivery(store.db, first.id)).toMatchObject({
      state: 'forged',
      attempts: 2,
      outcome: 'PortOne says ready',
    });
    expect(await markWebhookProcessed(store.db, 999_999_999, 'processed')).toBe(false);
  });

  it('lists what a crash left unprocessed, oldest first, within the attempt budget', async () => {
    const fresh = await migratedStore(target);
    try {
      const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
      const a = await insertWebhookDelivery(fresh.db, { ...delivery(), receivedAt: t(1) });
      const b = await insertWebhookDelivery(fresh.db, { ...delivery(), receivedAt: t(2) });
      const c = await insertWebhookDelivery(fresh.db, { ...delivery(), receivedAt: t(3) });
      const done = await insertWebhookDelivery(fresh.db, { ...delivery(), receivedAt: t(4) });
      await insertWebhookDelivery(fresh.db, { rawBody: '{}', receivedAt: t(5) });
      const late = await insertWebhookDelivery(fresh.db, { ...delivery(), receivedAt: t(50) });
      await markWebhookProcessed(fresh.db, done.id, 'processed');
      await markWebhookProcessed(fresh.db, b.id, 'failed', { error: 'x' });
      for (let i = 0; i < 3; i++) await markWebhookProcessed(fresh.db, c.id, 'failed', { error: 'x' });

      const pending = await listUnprocessedWebhooks(fresh.db, { receivedBefore: t(10), maxAttempts: 3 });
      expect(pending.map((p) => p.id)).toEqual([a.id, b.id]);
      expect(pending.map((p) => p.state)).toEqual(['received', 'failed']);
      const everything = await listUnprocessedWebhooks(fresh.db, { maxAttempts: 5, limit: 10 });
      expect(everything.map((p) => p.id)).toEqual([a.id, b.id, c.id, late.id]);
    } finally {
      await fresh.close();
    }
  });
});
