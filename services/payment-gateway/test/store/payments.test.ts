import type { PaymentCancel } from '@repo/portone-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimPaymentForCancel, releaseCancelClaim } from '../../src/store/cancel-claim.repository.ts';
import { toDbTime as dbTime } from '../../src/store/codec.ts';
import {
  impUidsStoredBefore,
  isPaymentStored,
  listPayments,
  markVerification,
  upsertPaymentFromPortOne,
} from '../../src/store/payment.repository.ts';
import { type MigratedStore, migratedStore, portonePayment, storeTargets } from './store-targets.ts';

const targets = await storeTargets();

describe.each(targets)('payment repository on $name', (target) => {
  let store: MigratedStore;
  beforeAll(async () => {
    store = await migratedStore(target);
  });
  afterAll(async () => {
    await store?.close();
  });

  /** The stored row, as the database holds it. */
  const row = (impUid: string) =>
    store.db.selectFrom('payments').selectAll().where('imp_uid', '=', impUid).executeTakeFirstOrThrow();
  /** The payment's cancels, oldest first. */
  const cancels = (impUid: string) =>
    store.db
      .selectFrom('payment_cancels')
      .selectAll()
      .where('imp_uid', '=', impUid)
      .orderBy('cancelled_at', 'asc')
      .orderBy('cancellation_id', 'asc')
      .execute();
  const money = (value: string | number | null) => (value === null ? null : Number(value));

  // The ordering rule: a snapshot replaces ours only when it moves the payment forward.
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
  ])('%s → %s replaces the stored payment: %s', async (from, to, forward) => {
    const p = portonePayment({ status: from });
    await upsertPaymentFromPortOne(store.db, p);
    // A new receipt URL, so that an equal state is a change too (a re-sync may carry new details).
    const result = await upsertPaymentFromPortOne(store.db, {
      ...p,
      status: to,
      receipt_url: 'https://example.test/2',
    });
    expect(result.outcome).toBe(forward ? 'updated' : 'stale');
    expect((await row(p.imp_uid)).status).toBe(forward ? to : from);
  });

  it('cancel amount never decreases, even within cancelled', async () => {
    const at = (cancel_amount: number, status = 'cancelled') => ({
      status,
      cancel_amount,
      receipt_url: `r${cancel_amount}`,
    });
    const p = portonePayment({ ...at(3000), amount: 10000 });
    await upsertPaymentFromPortOne(store.db, p);
    expect((await upsertPaymentFromPortOne(store.db, { ...p, ...at(5000) })).outcome).toBe('updated');
    expect((await upsertPaymentFromPortOne(store.db, { ...p, ...at(3000) })).outcome).toBe('stale');
    expect((await upsertPaymentFromPortOne(store.db, { ...p, ...at(5000), name: 'renamed' })).outcome).toBe('updated');
    expect(money((await row(p.imp_uid)).cancel_amount)).toBe(5000);
    // Compared in hundredths: 0.1 + 0.1 is not less than 0.2.
    const q = portonePayment({ currency: 'USD', amount: 10, ...at(0.2, 'paid') });
    await upsertPaymentFromPortOne(store.db, q);
    expect((await upsertPaymentFromPortOne(store.db, { ...q, ...at(0.1 + 0.1) })).outcome).toBe('updated');
  });

  it('inserts a PortOne payment and maps it back', async () => {
    const p = portonePayment();
    const result = await upsertPaymentFromPortOne(store.db, p, { now: new Date('2026-01-02T03:04:05.678Z') });
    expect(result.outcome).toBe('inserted');
    const stored = await row(p.imp_uid);
    expect({ ...stored, amount: money(stored.amount), cancel_amount: money(stored.cancel_amount) }).toMatchObject({
      imp_uid: p.imp_uid,
      merchant_uid: p.merchant_uid,
      status: 'paid',
      amount: 8900,
      cancel_amount: 0,
      currency: 'KRW',
      pay_method: 'card',
      card_number: '457972******1234',
      buyer_tel: '01012345678',
      sandbox: 1,
      paid_at: '2024-01-01 00:00:30.000',
      failed_at: null,
      cancelled_at: null,
      custom_data: '{"plan":"m"}',
      verification_status: 'unverified',
      forged: 0,
      created_at: '2026-01-02 03:04:05.678',
    });
    expect(JSON.parse(stored.raw)).toEqual(p);
    expect(await cancels(p.imp_uid)).toEqual([]);
    expect(await isPaymentStored(store.db, p.imp_uid)).toBe(true);
    expect(await isPaymentStored(store.db, 'imp_never_seen')).toBe(false);
  });

  it('writes nothing when PortOne says exactly what is stored', async () => {
    const p = portonePayment({ status: 'paid' });
    await upsertPaymentFromPortOne(store.db, p, { now: new Date('2024-01-01T00:00:00Z') });
    const again = await upsertPaymentFromPortOne(store.db, structuredClone(p), {
      now: new Date('2024-06-01T00:00:00Z'),
    });
    expect(again.outcome).toBe('unchanged');
    // updated_at still says the first write: the row was not touched.
    expect((await row(p.imp_uid)).updated_at).toBe('2024-01-01 00:00:00.000');
    const changed = await upsertPaymentFromPortOne(store.db, { ...p, buyer_name: 'changed' });
    expect(changed.outcome).toBe('updated');
  });

  it('moves only forward: ready → paid updates, a late ready or paid after cancel is stale', async () => {
    const ready = portonePayment({ status: 'ready', paid_at: 0 });
    await upsertPaymentFromPortOne(store.db, ready);
    const paid = { ...ready, status: 'paid', paid_at: 1704067300 };
    expect((await upsertPaymentFromPortOne(store.db, paid)).outcome).toBe('updated');
    expect((await upsertPaymentFromPortOne(store.db, ready)).outcome).toBe('stale');
    expect((await row(ready.imp_uid)).status).toBe('paid');

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
    expect(late).toMatchObject({ outcome: 'stale', previous: { status: 'cancelled', cancelAmount: 8900 } });
    expect(await row(ready.imp_uid)).toMatchObject({ status: 'cancelled', cancelled_at: '2024-01-01 00:03:20.000' });
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
    const stored = await row(p.imp_uid);
    expect([stored.status, money(stored.cancel_amount)]).toEqual(['cancelled', 3500]);
    const storedCancels = await cancels(p.imp_uid);
    expect(storedCancels.map((c) => [c.cancellation_id, money(c.amount), c.reason])).toEqual([
      ['pc_1', 1000, 'part 1'],
      ['pc_2', 2500, 'part 2'],
    ]);
    expect(storedCancels[1]?.cancelled_at).toBe('2024-01-01 03:33:20.000');
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
    expect(await cancels(p.imp_uid)).toHaveLength(1);
  });

  it('re-masks a card number that arrives unmasked', async () => {
    const p = portonePayment({ card_number: '4579-7212-3456-1234' });
    await upsertPaymentFromPortOne(store.db, p);
    expect((await row(p.imp_uid)).card_number).toBe('457972******1234');
  });

  it('keeps decimal amounts exact (foreign currency)', async () => {
    const p = portonePayment({ currency: 'USD', amount: 1234.56, cancel_amount: 0.1 });
    await upsertPaymentFromPortOne(store.db, p);
    const stored = await row(p.imp_uid);
    expect([money(stored.amount), money(stored.cancel_amount)]).toEqual([1234.56, 0.1]);
    await expect(upsertPaymentFromPortOne(store.db, portonePayment({ amount: 1.005 }))).rejects.toThrow(/2 decimals/);
  });

  it('knows which attempts of a merchant_uid it stored before a time (several attempts, one merchant_uid)', async () => {
    const merchantUid = 'order_shared_attempts';
    const a = portonePayment({ merchant_uid: merchantUid, status: 'failed' });
    const b = portonePayment({ merchant_uid: merchantUid, status: 'paid' });
    await upsertPaymentFromPortOne(store.db, a, { now: new Date('2026-03-01T00:00:00Z') });
    await upsertPaymentFromPortOne(store.db, b, { now: new Date('2026-03-01T00:00:01Z') });
    expect(await impUidsStoredBefore(store.db, merchantUid, new Date('2026-03-01T00:00:01Z'))).toEqual([a.imp_uid]);
    expect((await impUidsStoredBefore(store.db, merchantUid, new Date('2026-03-02T00:00:00Z'))).sort()).toEqual(
      [a.imp_uid, b.imp_uid].sort(),
    );
    expect(await impUidsStoredBefore(store.db, 'ORDER_SHARED_ATTEMPTS', new Date('2026-03-02T00:00:00Z'))).toEqual([]);
  });

  it('lists with status and time filters, paging and a total', async () => {
    const day = (d: number) => new Date(Date.UTC(2030, 0, d));
    for (let d = 1; d <= 5; d++) {
      await upsertPaymentFromPortOne(store.db, portonePayment({ status: d % 2 ? 'paid' : 'failed' }), { now: day(d) });
    }
    const window = { from: day(1), to: day(5) };
    const all = await listPayments(store.db, { ...window, page: 1, limit: 2 });
    expect(all.total).toBe(5);
    expect(all.rows.map((r) => r.created_at)).toEqual([day(5), day(4)].map(dbTime));
    const page3 = await listPayments(store.db, { ...window, page: 3, limit: 2 });
    expect(page3.rows.map((r) => r.created_at)).toEqual([dbTime(day(1))]);
    const failed = await listPayments(store.db, { ...window, status: 'failed', page: 1, limit: 10 });
    expect(failed.total).toBe(2);
    expect(failed.rows.every((r) => r.status === 'failed')).toBe(true);
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

  it('attributes newly seen cancels to who asked, and never re-attributes one already stored', async () => {
    const p = portonePayment({ amount: 5000 });
    await upsertPaymentFromPortOne(store.db, p);
    const entry = (id: string, amount: number, cancelled_at: number) => ({
      cancellation_id: id,
      amount,
      cancelled_at,
      pg_tid: `t_${id}`,
      reason: 'damaged',
      vat_amount: 181.82,
    });
    const first = entry(`a_${p.imp_uid}`, 2000, 1704070000);
    const second = entry(`b_${p.imp_uid}`, 1000, 1704080000);
    const once = { ...p, status: 'cancelled', cancel_amount: 2000, cancel_history: [first] };
    const twice = { ...once, cancel_amount: 3000, cancel_history: [first, second] };
    expect((await upsertPaymentFromPortOne(store.db, once, { requestedBy: 'api-key-1' })).newCancellationIds).toEqual([
      first.cancellation_id,
    ]);
    expect((await upsertPaymentFromPortOne(store.db, twice, { requestedBy: 'webhook' })).newCancellationIds).toEqual([
      second.cancellation_id,
    ]);
    const stored = await cancels(p.imp_uid);
    expect(stored.map((c) => [c.cancellation_id, c.requested_by, money(c.vat_amount), money(c.tax_free)])).toEqual([
      [first.cancellation_id, 'api-key-1', 181.82, null],
      [second.cancellation_id, 'webhook', 181.82, null],
    ]);
    // Learnt from PortOne without knowing who asked: no requester.
    const q = portonePayment({ amount: 3000 });
    const third = entry(`c_${q.imp_uid}`, 3000, 1704090000);
    await upsertPaymentFromPortOne(store.db, {
      ...q,
      status: 'cancelled',
      cancel_amount: 3000,
      cancel_history: [third],
    });
    expect((await cancels(q.imp_uid))[0]?.requested_by).toBeNull();
  });

  it('markVerification records the verdict and survives later PortOne syncs', async () => {
    const p = portonePayment();
    await upsertPaymentFromPortOne(store.db, p);
    const at = new Date('2026-06-01T00:00:00.000Z');
    expect(
      await markVerification(store.db, p.imp_uid, { status: 'mismatch', forged: true, detail: { expected: 100 }, at }),
    ).toBe(true);
    await upsertPaymentFromPortOne(store.db, { ...p, receipt_url: 'https://example.test/new' });
    const stored = await row(p.imp_uid);
    expect(stored).toMatchObject({
      verification_status: 'mismatch',
      forged: 1,
      verified_at: '2026-06-01 00:00:00.000',
      receipt_url: 'https://example.test/new',
    });
    expect(JSON.parse(stored.verification_detail ?? 'null')).toEqual({ expected: 100 });
    expect(await markVerification(store.db, 'imp_nope', { status: 'verified', forged: false })).toBe(false);
  });

  it('two concurrent first inserts of one payment both succeed (one inserts, one updates)', async () => {
    const p = portonePayment();
    const results = await Promise.all([
      upsertPaymentFromPortOne(store.db, p),
      upsertPaymentFromPortOne(store.db, { ...p, status: 'cancelled', cancel_amount: 8900 }),
    ]);
    expect(results.map((r) => r.outcome).sort()).toContain('inserted');
    expect((await row(p.imp_uid)).status).toBe('cancelled');
  });
});
