import type { PaymentCancel } from '@repo/portone-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  claimPaymentForCancel,
  findPaymentsByMerchantUid,
  getPayment,
  isForwardTransition,
  listCancels,
  listPayments,
  markVerification,
  recordCancel,
  releaseCancelClaim,
  upsertPaymentFromPortOne,
} from '../../src/store/payment.repository.ts';
import { type MigratedStore, migratedStore, portonePayment, storeTargets } from './store-targets.ts';

const targets = await storeTargets();

describe('isForwardTransition', () => {
  const at = (status: string, cancelAmount = 0) => ({ status, cancelAmount });
  it.each([
    ['ready', 'paid', true],
    ['ready', 'failed', true],
    ['ready', 'cancelled', true],
    ['failed', 'paid', true],
    ['paid', 'cancelled', true],
    ['paid', 'paid', true],
    ['paid', 'ready', false],
    ['paid', 'failed', false],
    ['cancelled', 'paid', false],
    ['cancelled', 'ready', false],
    ['failed', 'ready', false],
    ['paid', 'something_new', false],
    ['something_new', 'paid', true],
  ])('%s → %s is %s', (from, to, forward) => {
    expect(isForwardTransition(at(from), at(to))).toBe(forward);
  });

  it('cancel amount never decreases, even within cancelled', () => {
    expect(isForwardTransition(at('cancelled', 3000), at('cancelled', 5000))).toBe(true);
    expect(isForwardTransition(at('cancelled', 5000), at('cancelled', 3000))).toBe(false);
    expect(isForwardTransition(at('cancelled', 5000), at('cancelled', 5000))).toBe(true);
    expect(isForwardTransition(at('paid', 0.2), at('cancelled', 0.1 + 0.1))).toBe(true);
  });
});

describe.each(targets)('payment repository on $name', (target) => {
  let store: MigratedStore;
  beforeAll(async () => {
    store = await migratedStore(target);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('inserts a PortOne payment and maps it back', async () => {
    const p = portonePayment();
    const result = await upsertPaymentFromPortOne(store.db, p, { now: new Date('2026-01-02T03:04:05.678Z') });
    expect(result.outcome).toBe('inserted');
    const stored = await getPayment(store.db, p.imp_uid);
    expect(stored).toMatchObject({
      impUid: p.imp_uid,
      merchantUid: p.merchant_uid,
      status: 'paid',
      amount: 8900,
      cancelAmount: 0,
      cancellableAmount: 8900,
      currency: 'KRW',
      payMethod: 'card',
      cardNumber: '457972******1234',
      buyerTel: '01012345678',
      sandbox: true,
      paidAt: new Date(1704067230 * 1000),
      failedAt: null,
      cancelledAt: null,
      customData: '{"plan":"m"}',
      verificationStatus: 'unverified',
      forged: false,
      createdAt: new Date('2026-01-02T03:04:05.678Z'),
      cancels: [],
    });
    expect(stored?.raw).toEqual(p);
  });

  it('writes nothing when PortOne says exactly what is stored', async () => {
    const p = portonePayment({ status: 'paid' });
    await upsertPaymentFromPortOne(store.db, p, { now: new Date('2024-01-01T00:00:00Z') });
    const again = await upsertPaymentFromPortOne(store.db, structuredClone(p), {
      now: new Date('2024-06-01T00:00:00Z'),
    });
    expect(again.outcome).toBe('unchanged');
    expect(again.payment.status).toBe('paid');
    // updated_at still says the first write: the row was not touched.
    expect((await getPayment(store.db, p.imp_uid))?.updatedAt.toISOString()).toBe('2024-01-01T00:00:00.000Z');
    const changed = await upsertPaymentFromPortOne(store.db, { ...p, buyer_name: 'changed' });
    expect(changed.outcome).toBe('updated');
  });

  it('moves only forward: ready → paid updates, a late ready or paid after cancel is stale', async () => {
    const ready = portonePayment({ status: 'ready', paid_at: 0 });
    await upsertPaymentFromPortOne(store.db, ready);
    const paid = { ...ready, status: 'paid', paid_at: 1704067300 };
    expect((await upsertPaymentFromPortOne(store.db, paid)).outcome).toBe('updated');
    expect((await upsertPaymentFromPortOne(store.db, ready)).outcome).toBe('stale');
    expect((await getPayment(store.db, ready.imp_uid))?.status).toBe('paid');

    const cancelled = {
      ...paid,
      status: 'cancelled',
      cancel_amount: 8900,
      cancelled_at: 1704067400,
      cancel_reason: 'customer asked',
      cancel_history: [
        { pg_tid: 'c1', amount: 8900, cancelled_at: 1704067400, reason: 'customer asked', cancellation_id: 'can_1' },
      ],
    };
    const cancelResult = await upsertPaymentFromPortOne(store.db, cancelled);
    expect(cancelResult).toMatchObject({ outcome: 'updated', newCancellationIds: ['can_1'] });
    const late = await upsertPaymentFromPortOne(store.db, paid);
    expect(late.outcome).toBe('stale');
    expect(late.payment).toMatchObject({ status: 'cancelled', cancelAmount: 8900, cancellableAmount: 0 });
  });

  it('partial cancels accumulate; a stale smaller cancel_amount does not win; cancels are not duplicated', async () => {
    const p = portonePayment({ amount: 10000 });
    await upsertPaymentFromPortOne(store.db, p);
    const first = { pg_tid: 't1', amount: 1000, cancelled_at: 1704070000, reason: 'part 1', cancellation_id: 'pc_1' };
    const second = { pg_tid: 't2', amount: 2500, cancelled_at: 1704080000, reason: 'part 2', cancellation_id: 'pc_2' };
    const afterFirst = { ...p, status: 'cancelled', cancel_amount: 1000, cancel_history: [first] };
    const afterSecond = { ...p, status: 'cancelled', cancel_amount: 3500, cancel_history: [first, second] };

    expect((await upsertPaymentFromPortOne(store.db, afterFirst)).newCancellationIds).toEqual(['pc_1']);
    expect((await upsertPaymentFromPortOne(store.db, afterSecond)).newCancellationIds).toEqual(['pc_2']);
    const stale = await upsertPaymentFromPortOne(store.db, afterFirst);
    expect(stale).toMatchObject({ outcome: 'stale', newCancellationIds: [] });
    const stored = await getPayment(store.db, p.imp_uid);
    expect(stored).toMatchObject({ status: 'cancelled', cancelAmount: 3500, cancellableAmount: 6500 });
    expect(stored?.cancels.map((c) => [c.cancellationId, c.amount, c.reason])).toEqual([
      ['pc_1', 1000, 'part 1'],
      ['pc_2', 2500, 'part 2'],
    ]);
    expect(stored?.cancels[1]?.cancelledAt).toEqual(new Date(1704080000 * 1000));
  });

  it('history entries without cancellation_id get a stable derived id', async () => {
    const p = portonePayment();
    const legacy = {
      ...p,
      status: 'cancelled',
      cancel_amount: 8900,
      // Entries from before 2024-02 have no cancellation_id, which the client's type does not allow for.
      cancel_history: [{ pg_tid: 'old', amount: 8900, cancelled_at: 1600000000 } as PaymentCancel],
    };
    const once = await upsertPaymentFromPortOne(store.db, legacy);
    const twice = await upsertPaymentFromPortOne(store.db, legacy);
    expect(once.newCancellationIds).toHaveLength(1);
    expect(once.newCancellationIds[0]).toMatch(/^legacy_[0-9a-f]{40}$/);
    expect(twice.newCancellationIds).toEqual([]);
    expect(await listCancels(store.db, p.imp_uid)).toHaveLength(1);
  });

  it('re-masks a card number that arrives unmasked', async () => {
    const p = portonePayment({ card_number: '4579-7212-3456-1234' });
    const { payment } = await upsertPaymentFromPortOne(store.db, p);
    expect(payment.cardNumber).toBe('457972******1234');
  });

  it('keeps decimal amounts exact (foreign currency)', async () => {
    const p = portonePayment({ currency: 'USD', amount: 1234.56, cancel_amount: 0.1 });
    const { payment } = await upsertPaymentFromPortOne(store.db, p);
    expect(payment).toMatchObject({ amount: 1234.56, cancelAmount: 0.1, cancellableAmount: 1234.46 });
    await expect(upsertPaymentFromPortOne(store.db, portonePayment({ amount: 1.005 }))).rejects.toThrow(/2 decimals/);
  });

  it('finds every attempt of a merchant_uid, newest first', async () => {
    const merchantUid = 'order_shared_attempts';
    const a = portonePayment({ merchant_uid: merchantUid, status: 'failed' });
    const b = portonePayment({ merchant_uid: merchantUid, status: 'paid' });
    await upsertPaymentFromPortOne(store.db, a, { now: new Date('2026-03-01T00:00:00Z') });
    await upsertPaymentFromPortOne(store.db, b, { now: new Date('2026-03-01T00:00:01Z') });
    const found = await findPaymentsByMerchantUid(store.db, merchantUid);
    expect(found.map((f) => f.impUid)).toEqual([b.imp_uid, a.imp_uid]);
    expect(await findPaymentsByMerchantUid(store.db, 'ORDER_SHARED_ATTEMPTS')).toEqual([]);
  });

  it('lists with status and time filters, paging and a total', async () => {
    const day = (d: number) => new Date(Date.UTC(2030, 0, d));
    for (let d = 1; d <= 5; d++) {
      await upsertPaymentFromPortOne(store.db, portonePayment({ status: d % 2 ? 'paid' : 'failed' }), { now: day(d) });
    }
    const window = { from: day(1), to: day(5) };
    const all = await listPayments(store.db, { ...window, page: 1, limit: 2 });
    expect(all.total).toBe(5);
    expect(all.items.map((i) => i.createdAt)).toEqual([day(5), day(4)]);
    const page3 = await listPayments(store.db, { ...window, page: 3, limit: 2 });
    expect(page3.items.map((i) => i.createdAt)).toEqual([day(1)]);
    const failed = await listPayments(store.db, { ...window, status: 'failed', page: 1, limit: 10 });
    expect(failed.total).toBe(2);
    expect(failed.items.every((i) => i.status === 'failed')).toBe(true);
    const narrow = await listPayments(store.db, { from: day(2), to: day(3), page: 1, limit: 10 });
    expect(narrow.total).toBe(2);
  });

  it('a cancel claim is held by one claimant at a time, released only by its holder, and expires', async () => {
    const p = portonePayment({ amount: 10000 });
    await upsertPaymentFromPortOne(store.db, p);
    const t0 = new Date('2026-05-01T00:00:00.000Z');
    const at = (ms: number) => new Date(t0.getTime() + ms);

    const racers = await Promise.all(
      Array.from({ length: 5 }, () => claimPaymentForCancel(store.db, p.imp_uid, 60_000, t0)),
    );
    const holders = racers.filter((c) => c !== undefined);
    expect(holders).toEqual([{ impUid: p.imp_uid, until: at(60_000) }]);
    const first = holders[0]!;
    expect(await claimPaymentForCancel(store.db, p.imp_uid, 60_000, at(59_999))).toBeUndefined();

    // Its holder died: past the claim's end the next cancel takes it, and the dead one cannot release it.
    const next = await claimPaymentForCancel(store.db, p.imp_uid, 60_000, at(60_000));
    expect(next).toEqual({ impUid: p.imp_uid, until: at(120_000) });
    expect(await releaseCancelClaim(store.db, first)).toBe(false);
    expect(await claimPaymentForCancel(store.db, p.imp_uid, 60_000, at(61_000))).toBeUndefined();
    expect(await releaseCancelClaim(store.db, next!)).toBe(true);
    expect(await claimPaymentForCancel(store.db, p.imp_uid, 60_000, at(61_000))).toBeDefined();

    // A claim never touches what PortOne said, and a re-sync never touches the claim.
    await upsertPaymentFromPortOne(store.db, { ...p, status: 'cancelled', cancel_amount: 10000 });
    const row = await store.db
      .selectFrom('payments')
      .select(['status', 'cancel_claimed_until'])
      .where('imp_uid', '=', p.imp_uid)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('cancelled');
    expect(row.cancel_claimed_until).not.toBeNull();
    expect(await claimPaymentForCancel(store.db, 'imp_not_stored', 60_000)).toBeUndefined();
  });

  it('recordCancel stores the cancel, raises the payment, and is idempotent per cancellation_id', async () => {
    const p = portonePayment({ amount: 5000 });
    await upsertPaymentFromPortOne(store.db, p);
    const input = {
      impUid: p.imp_uid,
      cancellationId: `rc_${p.imp_uid}`,
      amount: 2000,
      taxFree: 0,
      vatAmount: 181.82,
      reason: 'damaged',
      pgTid: 'pgc_1',
      cancelledAt: new Date('2026-05-05T05:05:05.005Z'),
      requestedBy: 'api-key-1',
    };
    const recorded = await recordCancel(store.db, input);
    expect(recorded).toMatchObject({ amount: 2000, taxFree: 0, vatAmount: 181.82, requestedBy: 'api-key-1' });
    await recordCancel(store.db, input);
    expect(await listCancels(store.db, p.imp_uid)).toHaveLength(1);
    expect(await getPayment(store.db, p.imp_uid)).toMatchObject({
      status: 'cancelled',
      cancelAmount: 2000,
      cancelReason: 'damaged',
      cancelledAt: new Date('2026-05-05T05:05:05.005Z'),
    });

    // Learnt from PortOne first (no requester), attributed afterwards.
    const q = portonePayment({ amount: 3000 });
    await upsertPaymentFromPortOne(store.db, {
      ...q,
      status: 'cancelled',
      cancel_amount: 3000,
      cancel_history: [
        { cancellation_id: `rq_${q.imp_uid}`, amount: 3000, cancelled_at: 1704067400, pg_tid: 'x', reason: null },
      ],
    });
    const attributed = await recordCancel(store.db, {
      impUid: q.imp_uid,
      cancellationId: `rq_${q.imp_uid}`,
      amount: 3000,
      cancelledAt: new Date(1704067400 * 1000),
      requestedBy: 'api-key-2',
    });
    expect(attributed.requestedBy).toBe('api-key-2');

    await expect(recordCancel(store.db, { ...input, impUid: 'imp_unknown', cancellationId: 'zz' })).rejects.toThrow(
      /unknown payment/,
    );
  });

  it('markVerification records the verdict and survives later PortOne syncs', async () => {
    const p = portonePayment();
    await upsertPaymentFromPortOne(store.db, p);
    const at = new Date('2026-06-01T00:00:00.000Z');
    expect(
      await markVerification(store.db, p.imp_uid, { status: 'mismatch', forged: true, detail: { expected: 100 }, at }),
    ).toBe(true);
    await upsertPaymentFromPortOne(store.db, { ...p, receipt_url: 'https://example.test/new' });
    expect(await getPayment(store.db, p.imp_uid)).toMatchObject({
      verificationStatus: 'mismatch',
      forged: true,
      verifiedAt: at,
      verificationDetail: { expected: 100 },
      receiptUrl: 'https://example.test/new',
    });
    expect(await markVerification(store.db, 'imp_nope', { status: 'verified', forged: false })).toBe(false);
  });

  it('two concurrent first inserts of one payment both succeed (one inserts, one updates)', async () => {
    const p = portonePayment();
    const results = await Promise.all([
      upsertPaymentFromPortOne(store.db, p),
      upsertPaymentFromPortOne(store.db, { ...p, status: 'cancelled', cancel_amount: 8900 }),
    ]);
    expect(results.map((r) => r.outcome).sort()).toContain('inserted');
    expect((await getPayment(store.db, p.imp_uid))?.status).toBe('cancelled');
  });
});
