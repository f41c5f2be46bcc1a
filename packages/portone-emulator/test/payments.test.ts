import { describe, expect, it } from 'vitest';
import { T0, useHarness, useReceiver } from './helpers.ts';

const receiver = useReceiver();
const h = useHarness(() => ({ webhookUrl: receiver.url }));

describe('checkout (control) and GET /payments/{imp_uid}', () => {
  it('a card checkout is a paid payment with masked card data and a paid webhook', async () => {
    const p = await h.checkout({
      merchant_uid: 'order-1',
      amount: 8900,
      name: 'Monthly plan',
      buyer_name: '홍길동',
      buyer_email: 'a@b.c',
      custom_data: { plan: 'm' },
    });
    expect(p.imp_uid).toMatch(/^imp_\d{12}$/);
    expect(p).toMatchObject({
      merchant_uid: 'order-1',
      amount: 8900,
      cancel_amount: 0,
      currency: 'KRW',
      status: 'paid',
      pay_method: 'card',
      channel: 'pc',
      paid_at: T0,
      started_at: T0,
      failed_at: 0,
      cancelled_at: 0,
      custom_data: '{"plan":"m"}',
      card_number: '457972******1234',
      sandbox: false,
      cancel_history: [],
    });
    expect(receiver.received.map((r) => r.body)).toEqual([
      { imp_uid: p.imp_uid, merchant_uid: 'order-1', status: 'paid' },
    ]);
    const got = await h.api('GET', `/payments/${p.imp_uid}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual({ code: 0, message: null, response: p });
  });

  it('a failed checkout is recorded as failed and sends no webhook', async () => {
    const res = await h.control('POST', '/checkout', { merchant_uid: 'order-f', amount: 100, outcome: 'failed' });
    expect(res.body.code).toBe(0);
    expect(res.body.response).toMatchObject({ status: 'failed', failed_at: T0, paid_at: 0 });
    expect(res.body.response.fail_reason).toBeTruthy();
    expect(receiver.received).toHaveLength(0);
  });

  it('answers 404 -1 존재하지 않는 결제정보입니다. for unknown payments', async () => {
    const res = await h.api('GET', '/payments/imp_123456789012');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ code: -1, message: '존재하지 않는 결제정보입니다.', response: null });
  });

  it('hides sandbox payments unless include_sandbox=true', async () => {
    const p = await h.checkout({ merchant_uid: 'sb-1', amount: 100, sandbox: true });
    expect((await h.api('GET', `/payments/${p.imp_uid}`)).status).toBe(404);
    expect((await h.api('GET', `/payments/${p.imp_uid}?include_sandbox=false`)).status).toBe(404);
    const shown = await h.api('GET', `/payments/${p.imp_uid}?include_sandbox=true`);
    expect(shown.status).toBe(200);
    expect(shown.body.response.sandbox).toBe(true);
  });

  it('does not make a payment for an already paid merchant_uid', async () => {
    await h.checkout({ merchant_uid: 'dup', amount: 100 });
    const again = await h.control('POST', '/checkout', { merchant_uid: 'dup', amount: 100 });
    expect(again.body.code).not.toBe(0);
    expect(again.body.response).toBeNull();
  });

  it('rejects unknown control fields with a 400 naming them', async () => {
    const res = await h.control('POST', '/checkout', { merchant_uid: 'x', amount: 1, amuont: 2 });
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('amuont');
  });
});

describe('GET /payments (multiple, bracket arrays)', () => {
  it('answers 200 when all are found, 207 for a subset, 404 for none', async () => {
    const a = await h.checkout({ merchant_uid: 'm-a', amount: 100 });
    const b = await h.checkout({ merchant_uid: 'm-b', amount: 200 });
    const all = await h.api('GET', `/payments?imp_uid[]=${a.imp_uid}&merchant_uid[]=m-b`);
    expect(all.status).toBe(200);
    expect(all.body.response.map((p: { imp_uid: string }) => p.imp_uid).sort()).toEqual([a.imp_uid, b.imp_uid].sort());
    const some = await h.api('GET', `/payments?imp_uid%5B%5D=${a.imp_uid}&imp_uid%5B%5D=imp_000000000000`);
    expect(some.status).toBe(207);
    expect(some.body.code).toBe(0);
    expect(some.body.response).toHaveLength(1);
    const none = await h.api('GET', '/payments?imp_uid[]=imp_000000000000');
    expect(none.status).toBe(404);
    expect(none.body.response).toBeNull();
    const empty = await h.api('GET', '/payments');
    expect(empty.status).toBe(400);
    expect(empty.body.message).toContain('imp_uid[]');
  });
});

describe('find / findAll / status', () => {
  async function threeAttempts() {
    const failed = (await h.control('POST', '/checkout', { merchant_uid: 'multi', amount: 100, outcome: 'failed' }))
      .body.response;
    await h.advance(10);
    const ready = await h.checkout({ merchant_uid: 'multi', amount: 100, pay_method: 'vbank' });
    await h.advance(10);
    const paid = await h.checkout({ merchant_uid: 'multi', amount: 100 });
    return { failed, ready, paid };
  }

  it('find returns the latest attempt, or the latest with the given status; sorting changes the order', async () => {
    const { failed, ready, paid } = await threeAttempts();
    expect((await h.api('GET', '/payments/find/multi')).body.response.imp_uid).toBe(paid.imp_uid);
    expect((await h.api('GET', '/payments/find/multi/ready')).body.response.imp_uid).toBe(ready.imp_uid);
    expect((await h.api('GET', '/payments/find/multi?sorting=started')).body.response.imp_uid).toBe(failed.imp_uid);
    const missing = await h.api('GET', '/payments/find/multi/cancelled');
    expect(missing.status).toBe(404);
    expect((await h.api('GET', '/payments/find/multi/bogus')).status).toBe(400);
    expect((await h.api('GET', '/payments/find/multi?sorting=nope')).status).toBe(400);
  });

  it('findAll pages with total/previous/next', async () => {
    const { failed, ready, paid } = await threeAttempts();
    const page1 = await h.api('GET', '/payments/findAll/multi?limit=2');
    expect(page1.body.response).toMatchObject({ total: 3, previous: 0, next: 2 });
    expect(page1.body.response.list.map((p: { imp_uid: string }) => p.imp_uid)).toEqual([paid.imp_uid, ready.imp_uid]);
    const page2 = await h.api('GET', '/payments/findAll/multi?limit=2&page=2');
    expect(page2.body.response).toMatchObject({ total: 3, previous: 1, next: 0 });
    expect(page2.body.response.list[0].imp_uid).toBe(failed.imp_uid);
    expect((await h.api('GET', '/payments/findAll/multi/paid')).body.response.total).toBe(1);
    expect((await h.api('GET', '/payments/findAll/nothing')).status).toBe(404);
    expect((await h.api('GET', '/payments/findAll/multi?page=9')).status).toBe(400);
    expect((await h.api('GET', '/payments/findAll/multi?limit=1001')).status).toBe(400);
  });

  it('status lists filter by the timestamp of the final status within from/to', async () => {
    const { ready, paid } = await threeAttempts();
    const all = await h.api('GET', '/payments/status/all');
    expect(all.body.response.total).toBe(3);
    const paidList = await h.api('GET', '/payments/status/paid');
    expect(paidList.body.response.list.map((p: { imp_uid: string }) => p.imp_uid)).toEqual([paid.imp_uid]);
    const window = await h.api('GET', `/payments/status/all?from=${T0 + 5}&to=${T0 + 15}`);
    expect(window.body.response.list.map((p: { imp_uid: string }) => p.imp_uid)).toEqual([ready.imp_uid]);
    const bad = await h.api('GET', '/payments/status/pending');
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe('지원되지 않는 상태값입니다.');
    expect((await h.api('GET', `/payments/status/all?from=0&to=${T0}`)).status).toBe(400);
    expect((await h.api('GET', '/payments/status/all?page=abc')).body.message).toContain('page');
  });
});

describe('prepare', () => {
  it('registers, reads, updates and guards the checkout amount', async () => {
    const created = await h.api('POST', '/payments/prepare', { body: { merchant_uid: 'pre-1', amount: 5000 } });
    expect(created.body).toEqual({
      code: 0,
      message: null,
      response: { merchant_uid: 'pre-1', amount: 5000, currency: null },
    });
    const dup = await h.api('POST', '/payments/prepare', { body: { merchant_uid: 'pre-1', amount: 1 } });
    expect(dup.status).toBe(200);
    expect(dup.body.code).toBe(1);
    const read = await h.api('GET', '/payments/prepare/pre-1');
    expect(read.body.response.amount).toBe(5000);
    const missing = await h.api('GET', '/payments/prepare/none');
    expect(missing.status).toBe(404);
    expect(missing.body.message).toBe('사전등록된 결제정보가 존재하지 않습니다.');

    const forged = await h.control('POST', '/checkout', { merchant_uid: 'pre-1', amount: 100 });
    expect(forged.body.code).not.toBe(0);
    expect((await h.api('GET', '/payments/find/pre-1')).status).toBe(404);

    const updated = await h.api('PUT', '/payments/prepare', { form: 'merchant_uid=pre-1&amount=100&currency=KRW' });
    expect(updated.body.response).toEqual({ merchant_uid: 'pre-1', amount: 100, currency: 'KRW' });
    expect((await h.checkout({ merchant_uid: 'pre-1', amount: 100 })).status).toBe('paid');
    expect((await h.api('PUT', '/payments/prepare', { body: { merchant_uid: 'nope', amount: 1 } })).status).toBe(404);
    const noAmount = await h.api('POST', '/payments/prepare', { body: { merchant_uid: 'x' } });
    expect(noAmount.status).toBe(400);
    expect(noAmount.body.message).toContain('amount');
  });
});
