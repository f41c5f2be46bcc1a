import { describe, expect, it } from 'vitest';
import { MAGIC } from '../src/index.ts';
import { cardBody, T0, useHarness, useReceiver } from './helpers.ts';

const receiver = useReceiver();
const h = useHarness(() => ({ webhookUrl: receiver.url }));

const HOUR = 3600;
const schedule = (body: Record<string, unknown>) => h.api('POST', '/subscribe/payments/schedule', { body });
const issue = (uid: string, extra: Record<string, unknown> = {}) =>
  h.api('POST', `/subscribe/customers/${uid}`, {
    body: cardBody({ customer_name: '홍길동', customer_email: 'a@b.c', ...extra }),
  });

describe('schedule → clock advance → payment + webhook', () => {
  it('executes due schedules like again, sends paid/failed webhooks, and reports the result', async () => {
    await issue('s-cust');
    const created = await schedule({
      customer_uid: 's-cust',
      schedules: [
        { merchant_uid: 's-1', schedule_at: T0 + HOUR, amount: 9900, name: 'plan' },
        { merchant_uid: 's-2', schedule_at: T0 + 2 * HOUR, amount: MAGIC.DECLINED_AMOUNT, name: 'plan' },
        { merchant_uid: 's-3', schedule_at: T0 + 10 * HOUR, amount: 9900, name: 'plan' },
      ],
    });
    expect(created.body.code).toBe(0);
    expect(created.body.response).toHaveLength(3);
    expect(created.body.response[0]).toMatchObject({
      customer_uid: 's-cust',
      merchant_uid: 's-1',
      imp_uid: null,
      schedule_status: 'scheduled',
      payment_status: null,
      executed_at: 0,
      revoked_at: 0,
      currency: 'KRW',
      buyer_name: '홍길동',
      buyer_email: 'a@b.c',
    });

    expect(await h.advance(HOUR - 1)).toEqual({ now: T0 + HOUR - 1, executedSchedules: 0 });
    expect(receiver.received).toHaveLength(0);
    expect(await h.advance(HOUR + 1)).toEqual({ now: T0 + 2 * HOUR, executedSchedules: 2 });

    const s1 = (await h.api('GET', '/subscribe/payments/schedule/s-1')).body.response;
    expect(s1).toMatchObject({ schedule_status: 'executed', payment_status: 'paid', executed_at: T0 + 2 * HOUR });
    expect(s1.imp_uid).toMatch(/^imp_\d{12}$/);
    const payment = (await h.api('GET', `/payments/${s1.imp_uid}`)).body.response;
    expect(payment).toMatchObject({
      status: 'paid',
      channel: 'api',
      customer_uid: 's-cust',
      customer_uid_usage: 'payment.scheduled',
      amount: 9900,
      merchant_uid: 's-1',
    });
    const s2 = (await h.api('GET', '/subscribe/payments/schedule/s-2')).body.response;
    expect(s2).toMatchObject({ schedule_status: 'executed', payment_status: 'failed' });
    expect(s2.fail_reason).toBeTruthy();

    expect(receiver.received.map((r) => r.body)).toEqual([
      { imp_uid: s1.imp_uid, merchant_uid: 's-1', status: 'paid' },
      { imp_uid: s2.imp_uid, merchant_uid: 's-2', status: 'failed' },
    ]);

    // Cancelling the executed payment shows through the schedule's payment_status.
    await h.api('POST', '/payments/cancel', { body: { imp_uid: s1.imp_uid } });
    expect((await h.api('GET', '/subscribe/payments/schedule/s-1')).body.response.payment_status).toBe('cancelled');
    expect((await h.api('GET', '/subscribe/customers/s-cust/payments')).body.response.total).toBe(2);
  });

  it('issues a key from card fields when the customer is new; code 1 without card; duplicate merchant_uid code 1', async () => {
    const noCard = await schedule({
      customer_uid: 'new',
      schedules: [{ merchant_uid: 'n-1', schedule_at: T0 + HOUR, amount: 100 }],
    });
    expect(noCard.status).toBe(200);
    expect(noCard.body).toEqual({ code: 1, message: '등록된 고객정보가 없습니다.', response: null });

    const withCard = await schedule({
      customer_uid: 'new',
      ...cardBody(),
      schedules: [{ merchant_uid: 'n-1', schedule_at: T0 + HOUR, amount: 100 }],
    });
    expect(withCard.body.code).toBe(0);
    expect((await h.api('GET', '/subscribe/customers/new')).status).toBe(200);

    const dup = await schedule({
      customer_uid: 'new',
      schedules: [{ merchant_uid: 'n-1', schedule_at: T0 + HOUR, amount: 100 }],
    });
    expect(dup.body.code).toBe(1);
    const dupInBatch = await schedule({
      customer_uid: 'new',
      schedules: [
        { merchant_uid: 'n-2', schedule_at: T0 + HOUR, amount: 100 },
        { merchant_uid: 'n-2', schedule_at: T0 + HOUR, amount: 100 },
      ],
    });
    expect(dupInBatch.body.code).toBe(1);
    expect((await h.api('GET', '/subscribe/payments/schedule/n-2')).status).toBe(404);
    const badItem = await schedule({ customer_uid: 'new', schedules: [{ merchant_uid: 'n-3', amount: 100 }] });
    expect(badItem.status).toBe(400);
    expect(badItem.body.message).toContain('schedules[0].schedule_at');
  });

  it('accepts a form body with indexed schedules', async () => {
    await issue('f-cust');
    const res = await h.api('POST', '/subscribe/payments/schedule', {
      form: `customer_uid=f-cust&schedules[0][merchant_uid]=f-1&schedules[0][schedule_at]=${T0 + HOUR}&schedules[0][amount]=1000&schedules[1][merchant_uid]=f-2&schedules[1][schedule_at]=${T0 + HOUR}&schedules[1][amount]=2000`,
    });
    expect(res.body.code).toBe(0);
    expect(res.body.response.map((s: { merchant_uid: string; amount: number }) => [s.merchant_uid, s.amount])).toEqual([
      ['f-1', 1000],
      ['f-2', 2000],
    ]);
  });

  it('a schedule whose billing key was deleted fails when due, with a failed webhook', async () => {
    await issue('gone');
    await schedule({ customer_uid: 'gone', schedules: [{ merchant_uid: 'g-1', schedule_at: T0 + HOUR, amount: 100 }] });
    await h.api('DELETE', '/subscribe/customers/gone');
    await h.advance(HOUR);
    const s = (await h.api('GET', '/subscribe/payments/schedule/g-1')).body.response;
    expect(s).toMatchObject({ schedule_status: 'executed', payment_status: 'failed' });
    expect(receiver.received.map((r) => r.body.status)).toEqual(['failed']);
  });
});

describe('unschedule and listings', () => {
  async function setup() {
    await issue('u-1');
    await issue('u-2');
    await schedule({
      customer_uid: 'u-1',
      schedules: [1, 2, 3].map((i) => ({ merchant_uid: `u1-${i}`, schedule_at: T0 + i * HOUR, amount: 100 })),
    });
    await schedule({ customer_uid: 'u-2', schedules: [{ merchant_uid: 'u2-1', schedule_at: T0 + HOUR, amount: 100 }] });
  }

  it('revokes by merchant_uid (string or array) or all of a customer; nothing pending is code 1', async () => {
    await setup();
    const one = await h.api('POST', '/subscribe/payments/unschedule', {
      body: { customer_uid: 'u-1', merchant_uid: 'u1-1' },
    });
    expect(one.body.response).toHaveLength(1);
    expect(one.body.response[0]).toMatchObject({ merchant_uid: 'u1-1', schedule_status: 'revoked', revoked_at: T0 });
    const arr = await h.api('POST', '/subscribe/payments/unschedule', {
      form: 'merchant_uid[]=u1-2&merchant_uid[]=u2-1',
    });
    expect(arr.body.response.map((s: { merchant_uid: string }) => s.merchant_uid)).toEqual(['u1-2', 'u2-1']);
    const rest = await h.api('POST', '/subscribe/payments/unschedule', { body: { customer_uid: 'u-1' } });
    expect(rest.body.response.map((s: { merchant_uid: string }) => s.merchant_uid)).toEqual(['u1-3']);
    const nothing = await h.api('POST', '/subscribe/payments/unschedule', { body: { customer_uid: 'u-1' } });
    expect(nothing.status).toBe(200);
    expect(nothing.body).toEqual({ code: 1, message: '취소할 예약결제 기록이 존재하지 않습니다.', response: null });
    expect((await h.advance(10 * HOUR)).executedSchedules).toBe(0);
  });

  it('lists a customer’s schedules with both parameter spellings, newest first, paged', async () => {
    await setup();
    await h.api('POST', '/subscribe/payments/unschedule', { body: { merchant_uid: ['u1-3'] } });
    const spec = await h.api('GET', `/subscribe/payments/schedule/customers/u-1?from=${T0}&to=${T0 + 10 * HOUR}`);
    expect(spec.body.response).toMatchObject({ total: 3, previous: 0, next: 0 });
    expect(spec.body.response.list.map((s: { merchant_uid: string }) => s.merchant_uid)).toEqual([
      'u1-3',
      'u1-2',
      'u1-1',
    ]);
    const hyphen = await h.api(
      'GET',
      `/subscribe/payments/schedule/customers/u-1?from=${T0}&to=${T0 + 10 * HOUR}&schedule-status=revoked`,
    );
    expect(hyphen.body.response.list.map((s: { merchant_uid: string }) => s.merchant_uid)).toEqual(['u1-3']);
    const underscore = await h.api(
      'GET',
      `/subscribe/customers/u-1/schedules?schedule_from=${T0}&schedule_to=${T0 + 3 * HOUR}&schedule_status=scheduled`,
    );
    // `to` is exclusive.
    expect(underscore.body.response.list.map((s: { merchant_uid: string }) => s.merchant_uid)).toEqual([
      'u1-2',
      'u1-1',
    ]);
    expect((await h.api('GET', '/subscribe/payments/schedule/customers/u-1')).status).toBe(400);
    expect(
      (await h.api('GET', `/subscribe/payments/schedule/customers/u-1?from=${T0}&to=${T0 + HOUR}&schedule-status=x`))
        .status,
    ).toBe(400);
  });

  it('lists all schedules in a window with status, paging and sorting', async () => {
    await setup();
    const all = await h.api(
      'GET',
      `/subscribe/payments/schedule?schedule_from=${T0}&schedule_to=${T0 + 10 * HOUR}&limit=3`,
    );
    expect(all.body.response).toMatchObject({ total: 4, previous: 0, next: 2 });
    expect(all.body.response.list[0].merchant_uid).toBe('u1-3');
    const oldest = await h.api(
      'GET',
      `/subscribe/payments/schedule?schedule_from=${T0}&schedule_to=${T0 + 10 * HOUR}&sorting=scheduled&schedule_status=scheduled`,
    );
    expect(oldest.body.response.list.map((s: { merchant_uid: string }) => s.merchant_uid)).toEqual([
      'u1-1',
      'u2-1',
      'u1-2',
      'u1-3',
    ]);
    const missing = await h.api('GET', '/subscribe/payments/schedule');
    expect(missing.status).toBe(400);
    expect(missing.body.message).toContain('schedule_from');
    expect((await h.api('GET', '/subscribe/payments/schedule/none')).status).toBe(404);
  });

  it('PUT moves a pending schedule', async () => {
    await setup();
    const moved = await h.api('PUT', '/subscribe/payments/schedule/u1-1', { body: { schedule_at: T0 + 5 * HOUR } });
    expect(moved.body.response.schedule_at).toBe(T0 + 5 * HOUR);
    expect((await h.advance(HOUR)).executedSchedules).toBe(1);
    expect(
      (await h.api('PUT', '/subscribe/payments/schedule/u2-1', { body: { schedule_at: T0 + 5 * HOUR } })).status,
    ).toBe(400);
  });
});
