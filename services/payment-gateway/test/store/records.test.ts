import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  getBillingKey,
  listBillingKeys,
  markBillingKeyDeleted,
  upsertBillingKey,
} from '../../src/store/billing-key.repository.ts';
import { fromDbTime, fromDecimal, maskCardNumber, toDbTime, toDecimal } from '../../src/store/codec.ts';
import {
  insertPortOneCall,
  insertPortOneCalls,
  listPortOneCalls,
  maskImpKey,
} from '../../src/store/portone-call.repository.ts';
import { getPrepared, savePrepared } from '../../src/store/prepared.repository.ts';
import {
  getSchedule,
  listSchedulesByCustomer,
  markSchedulesRevoked,
  upsertSchedules,
} from '../../src/store/schedule.repository.ts';
import { type MigratedStore, migratedStore, storeTargets } from './store-targets.ts';

const targets = await storeTargets();

describe('codec', () => {
  it.each([
    [0, '0.00'],
    [8900, '8900.00'],
    [10.5, '10.50'],
    [19.99, '19.99'],
    [0.01, '0.01'],
    [999_999_999_999.99, '999999999999.99'],
  ])('toDecimal(%s) = %s and back', (amount, text) => {
    expect(toDecimal(amount)).toBe(text);
    expect(fromDecimal(text)).toBe(amount);
  });

  it('refuses amounts it would have to round', () => {
    expect(() => toDecimal(1.005)).toThrow(RangeError);
    expect(() => toDecimal(-1)).toThrow(RangeError);
    expect(() => toDecimal(Number.NaN)).toThrow(RangeError);
    expect(() => toDecimal(1e17)).toThrow(RangeError);
  });

  it('times are fixed-width UTC text', () => {
    const d = new Date('2026-11-22T09:08:07.006Z');
    expect(toDbTime(d)).toBe('2026-11-22 09:08:07.006');
    expect(fromDbTime('2026-11-22 09:08:07.006')).toEqual(d);
  });

  it('card numbers never keep more than 10 digits', () => {
    expect(maskCardNumber('4579721234561234')).toBe('457972******1234');
    expect(maskCardNumber('457972******1234')).toBe('457972******1234');
    expect(maskCardNumber('************1234')).toBe('************1234');
    expect(maskCardNumber(null)).toBeNull();
  });
});

describe.each(targets)('records on $name', (target) => {
  let store: MigratedStore;
  beforeAll(async () => {
    store = await migratedStore(target);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('DECIMAL and BIGINT values round-trip through the driver exactly', async () => {
    const amounts = [0, 0.01, 10.5, 8900, 1234.56, 999_999_999_999.99];
    for (const [i, amount] of amounts.entries()) {
      await savePrepared(store.db, { merchantUid: `rt_${i}`, amount, currency: 'USD' });
      expect((await getPrepared(store.db, `rt_${i}`))?.amount).toBe(amount);
    }
    // What the driver itself hands back for a DECIMAL column (string on MySQL, number on SQLite).
    const raw = await store.db
      .selectFrom('prepared_payments')
      .select('amount')
      .where('merchant_uid', '=', 'rt_2')
      .executeTakeFirstOrThrow();
    expect(typeof raw.amount).toBe(target.name === 'mariadb' ? 'string' : 'number');
    const big = await sql<{ v: number | string }>`select ${sql.lit(9007199254740991)} + 0 as v`.execute(store.db);
    expect(Number(big.rows[0]?.v)).toBe(9007199254740991);
    const id = await insertPortOneCall(store.db, {
      operation: 'payments.get',
      method: 'GET',
      path: '/payments/{imp_uid}',
      durationMs: 1,
      attempt: 1,
      outcome: 'ok',
    });
    expect(typeof id).toBe('number');
  });

  it('prepared amounts: save, replace, get', async () => {
    const t1 = new Date('2026-01-01T00:00:00.000Z');
    const t2 = new Date('2026-01-01T00:01:00.000Z');
    const first = await savePrepared(store.db, { merchantUid: 'order_prep', amount: 10000, currency: 'KRW', now: t1 });
    expect(first).toEqual({ merchantUid: 'order_prep', amount: 10000, currency: 'KRW', createdAt: t1, updatedAt: t1 });
    await savePrepared(store.db, { merchantUid: 'order_prep', amount: 12000, now: t2 });
    expect(await getPrepared(store.db, 'order_prep')).toEqual({
      merchantUid: 'order_prep',
      amount: 12000,
      currency: null,
      createdAt: t1,
      updatedAt: t2,
    });
    // Saving the same values again (MySQL reports found rows, not changed rows) is fine.
    await savePrepared(store.db, { merchantUid: 'order_prep', amount: 12000, now: t2 });
    expect(await getPrepared(store.db, 'order_missing')).toBeUndefined();
  });

  it('billing keys: upsert, re-mask, list, soft delete and re-issue', async () => {
    const stored = await upsertBillingKey(store.db, {
      customer_uid: 'cust_1',
      pg_provider: 'nice_v2',
      card_name: '신한카드',
      card_code: '366',
      card_number: '4579-7212-3456-1234',
      card_type: 0,
      customer_name: '홍길동',
      customer_email: 'a@b.c',
      inserted: 1704067200,
      updated: 1704067200,
    });
    expect(stored).toMatchObject({
      customerUid: 'cust_1',
      cardNumber: '457972******1234',
      insertedAt: new Date(1704067200 * 1000),
      deletedAt: null,
    });
    await upsertBillingKey(store.db, { customer_uid: 'cust_2', card_number: '512345******9876' });
    expect((await listBillingKeys(store.db)).items.map((k) => k.customerUid)).toEqual(['cust_1', 'cust_2']);
    expect(
      (await listBillingKeys(store.db, { customerUids: ['cust_2', 'nope'] })).items.map((k) => k.customerUid),
    ).toEqual(['cust_2']);

    const deletedAt = new Date('2026-04-04T04:04:04.004Z');
    expect(await markBillingKeyDeleted(store.db, 'cust_1', { now: deletedAt })).toBe(true);
    expect(await markBillingKeyDeleted(store.db, 'cust_unknown')).toBe(false);
    expect((await getBillingKey(store.db, 'cust_1'))?.deletedAt).toEqual(deletedAt);
    expect((await listBillingKeys(store.db)).items.map((k) => k.customerUid)).toEqual(['cust_2']);
    expect(await listBillingKeys(store.db, { includeDeleted: true })).toMatchObject({ total: 2 });
    // Pages like listPayments: the total counts the whole filter, the page holds `limit` rows.
    const second = await listBillingKeys(store.db, { includeDeleted: true, page: 2, limit: 1 });
    expect(second).toMatchObject({ total: 2, items: [{ customerUid: 'cust_2' }] });
    expect(await listBillingKeys(store.db, { includeDeleted: true, page: 3, limit: 1 })).toEqual({
      total: 2,
      items: [],
    });

    const reissued = await upsertBillingKey(store.db, { customer_uid: 'cust_1', card_number: '940912******0001' });
    expect(reissued).toMatchObject({ deletedAt: null, cardNumber: '940912******0001', cardName: null });
    expect(reissued.createdAt).toEqual(stored.createdAt);
  });

  it('schedules: upsert, get, list by customer, revoke', async () => {
    const at = (day: number) => Date.UTC(2027, 0, day) / 1000;
    const base = { customer_uid: 'cust_sched', amount: 9900, currency: 'KRW', name: 'plan' };
    const created = await upsertSchedules(store.db, [
      { ...base, merchant_uid: 'sch_1', schedule_at: at(1), schedule_status: 'scheduled' },
      { ...base, merchant_uid: 'sch_2', schedule_at: at(2), schedule_status: 'scheduled' },
      { ...base, merchant_uid: 'sch_3', schedule_at: at(3), schedule_status: 'scheduled' },
      { ...base, customer_uid: 'cust_other', merchant_uid: 'sch_x', schedule_at: at(1), schedule_status: 'scheduled' },
    ]);
    expect(created.map((s) => s.merchantUid)).toEqual(['sch_1', 'sch_2', 'sch_3', 'sch_x']);
    expect(await getSchedule(store.db, 'sch_1')).toMatchObject({
      customerUid: 'cust_sched',
      scheduleAt: new Date(at(1) * 1000),
      amount: 9900,
      scheduleStatus: 'scheduled',
      paymentStatus: null,
      executedAt: null,
    });

    // PortOne reports an execution.
    await upsertSchedules(store.db, [
      {
        ...base,
        merchant_uid: 'sch_1',
        schedule_at: at(1),
        schedule_status: 'executed',
        payment_status: 'failed',
        imp_uid: 'imp_s1',
        executed_at: at(1) + 5,
        revoked_at: 0,
        fail_reason: 'limit exceeded',
      },
    ]);
    expect(await getSchedule(store.db, 'sch_1')).toMatchObject({
      scheduleStatus: 'executed',
      paymentStatus: 'failed',
      impUid: 'imp_s1',
      failReason: 'limit exceeded',
      revokedAt: null,
    });

    const page = await listSchedulesByCustomer(store.db, 'cust_sched', { page: 1, limit: 2 });
    expect(page.total).toBe(3);
    expect(page.items.map((s) => s.merchantUid)).toEqual(['sch_3', 'sch_2']);
    const window = await listSchedulesByCustomer(store.db, 'cust_sched', {
      from: new Date(at(2) * 1000),
      to: new Date(at(3) * 1000),
      page: 1,
      limit: 10,
    });
    expect(window.items.map((s) => s.merchantUid)).toEqual(['sch_2']);
    const pending = await listSchedulesByCustomer(store.db, 'cust_sched', { status: 'scheduled', page: 1, limit: 10 });
    expect(pending.total).toBe(2);

    const revokedAt = new Date('2026-12-01T00:00:00.000Z');
    const revoked = await markSchedulesRevoked(store.db, { customerUid: 'cust_sched', revokedAt });
    expect(revoked.map((s) => [s.merchantUid, s.scheduleStatus])).toEqual([
      ['sch_2', 'revoked'],
      ['sch_3', 'revoked'],
    ]);
    expect(revoked[0]?.revokedAt).toEqual(revokedAt);
    expect((await getSchedule(store.db, 'sch_1'))?.scheduleStatus).toBe('executed');
    expect((await getSchedule(store.db, 'sch_x'))?.scheduleStatus).toBe('scheduled');
    expect(await markSchedulesRevoked(store.db, { merchantUids: ['sch_2'] })).toEqual([]);
    expect((await markSchedulesRevoked(store.db, { merchantUids: ['sch_x'] })).map((s) => s.merchantUid)).toEqual([
      'sch_x',
    ]);
    await expect(markSchedulesRevoked(store.db, {})).rejects.toThrow(/customerUid or merchantUids/);
  });

  it('PortOne call audit stores a masked key and the route pattern', async () => {
    const at = new Date('2026-07-07T07:07:07.007Z');
    const id = await insertPortOneCall(store.db, {
      at,
      operation: 'payments.cancel',
      method: 'POST',
      path: '/payments/cancel',
      status: 200,
      code: 1,
      durationMs: 123.4,
      attempt: 2,
      impKey: 'imp_emulator_key_1234',
      outcome: 'error',
      error: 'PortOneApiError',
      requestId: 'req-1',
    });
    const [latest] = await listPortOneCalls(store.db, { limit: 1 });
    expect(latest).toEqual({
      id,
      at,
      operation: 'payments.cancel',
      method: 'POST',
      pathPattern: '/payments/cancel',
      httpStatus: 200,
      portoneCode: 1,
      durationMs: 123,
      attempt: 2,
      impKeyMasked: 'imp_****1234',
      outcome: 'error',
      errorClass: 'PortOneApiError',
      requestId: 'req-1',
    });
    expect(maskImpKey('imp_****1234')).toBe('imp_****1234');
    expect(maskImpKey('short')).toBe('*****');
  });

  it('writes a batch of calls in one insert', async () => {
    const base = { method: 'GET', path: '/payments/{imp_uid}', durationMs: 1, attempt: 1, outcome: 'ok' as const };
    await insertPortOneCalls(store.db, [
      { ...base, operation: 'batch.a', requestId: 'req-b1' },
      { ...base, operation: 'batch.b', requestId: 'req-b2' },
      { ...base, operation: 'batch.c', requestId: 'req-b3' },
    ]);
    await insertPortOneCalls(store.db, []);
    const latest = await listPortOneCalls(store.db, { limit: 3 });
    expect(latest.map((c) => c.operation).sort()).toEqual(['batch.a', 'batch.b', 'batch.c']);
  });

  it('stores every field of a batched call in its own column', async () => {
    await insertPortOneCalls(store.db, [
      {
        operation: 'batch.full',
        method: 'POST',
        path: '/payments/cancel',
        status: 500,
        code: -1,
        durationMs: 12.6,
        attempt: 2,
        impKey: 'imp_live_key_5678',
        outcome: 'error',
        error: 'PortOneUnavailableError',
        requestId: 'req-full',
      },
    ]);
    const [call] = await listPortOneCalls(store.db, { limit: 1 });
    expect(call).toMatchObject({
      operation: 'batch.full',
      method: 'POST',
      pathPattern: '/payments/cancel',
      httpStatus: 500,
      portoneCode: -1,
      durationMs: 13,
      attempt: 2,
      impKeyMasked: 'imp_****5678',
      outcome: 'error',
      errorClass: 'PortOneUnavailableError',
      requestId: 'req-full',
    });
    expect(Math.abs(call!.at.getTime() - Date.now())).toBeLessThan(60_000);
  });
});
