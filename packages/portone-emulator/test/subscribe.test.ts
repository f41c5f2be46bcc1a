import { describe, expect, it } from 'vitest';
import { MAGIC } from '../src/index.ts';
import { cardBody, T0, useHarness, useReceiver } from './helpers.ts';

const receiver = useReceiver();
const h = useHarness(() => ({ webhookUrl: receiver.url }));

const issue = (uid: string, extra: Record<string, unknown> = {}) =>
  h.api('POST', `/subscribe/customers/${uid}`, { body: cardBody({ customer_name: '홍길동', ...extra }) });

describe('billing keys', () => {
  it('issues a key keeping only a masked card number, reads, lists and deletes it', async () => {
    const res = await issue('cust-1', { pg: 'nice_v2.nictest04m' });
    expect(res.status).toBe(200);
    expect(res.body.response).toMatchObject({
      customer_uid: 'cust-1',
      card_number: '411111******1111',
      pg_provider: 'nice_v2',
      pg_id: 'nictest04m',
      customer_name: '홍길동',
      inserted: T0,
      updated: T0,
      sandbox: false,
    });
    expect(JSON.stringify(res.body)).not.toContain('4111111111111111');
    expect(JSON.stringify(res.body)).not.toContain('4111-1111-1111-1111');

    expect((await h.api('GET', '/subscribe/customers/cust-1')).body.response.customer_uid).toBe('cust-1');
    const missing = await h.api('GET', '/subscribe/customers/nobody');
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe(-1);
    expect(missing.body.message).toContain('nobody');

    await issue('cust-2');
    expect((await h.api('GET', '/subscribe/customers?customer_uid[]=cust-1&customer_uid[]=cust-2')).status).toBe(200);
    const partial = await h.api('GET', '/subscribe/customers?customer_uid[]=cust-1&customer_uid[]=x');
    expect(partial.status).toBe(207);
    expect(partial.body.response).toHaveLength(1);
    expect((await h.api('GET', '/subscribe/customers?customer_uid[]=x')).status).toBe(404);

    const deleted = await h.api('DELETE', '/subscribe/customers/cust-1');
    expect(deleted.body.response.customer_uid).toBe('cust-1');
    expect((await h.api('GET', '/subscribe/customers/cust-1')).status).toBe(404);
    expect((await h.api('DELETE', '/subscribe/customers/cust-1')).status).toBe(404);
  });

  it('fails card authentication with code -1 for invalid cards and stores nothing', async () => {
    for (const card_number of [MAGIC.INVALID_CARD_NUMBER, '1234', '4111-1111-1111-111x']) {
      const res = await issue('bad', { card_number });
      expect(res.status).toBe(200);
      expect(res.body.code).toBe(-1);
      expect(res.body.response).toBeNull();
    }
    expect((await issue('bad', { expiry: '2020-01' })).body.code).toBe(-1);
    expect((await h.api('GET', '/subscribe/customers/bad')).status).toBe(404);
    const missing = await h.api('POST', '/subscribe/customers/bad', { body: { expiry: '2030-01' } });
    expect(missing.status).toBe(400);
    expect(missing.body.message).toContain('card_number');
  });
});

describe('again / onetime', () => {
  it('again charges the billing key: paid + webhook; paid merchant_uid cannot be reused', async () => {
    await issue('cust-a', { customer_email: 'a@b.c' });
    const res = await h.api('POST', '/subscribe/payments/again', {
      body: { customer_uid: 'cust-a', merchant_uid: 'sub-1', amount: 9900, name: '정기결제' },
    });
    expect(res.body.code).toBe(0);
    expect(res.body.response).toMatchObject({
      status: 'paid',
      channel: 'api',
      customer_uid: 'cust-a',
      customer_uid_usage: 'payment',
      card_number: '411111******1111',
      buyer_name: '홍길동',
      buyer_email: 'a@b.c',
      amount: 9900,
    });
    await h.control('POST', '/webhooks/flush');
    expect(receiver.received.map((r) => r.body)).toEqual([
      { imp_uid: res.body.response.imp_uid, merchant_uid: 'sub-1', status: 'paid' },
    ]);
    const reuse = await h.api('POST', '/subscribe/payments/again', {
      body: { customer_uid: 'cust-a', merchant_uid: 'sub-1', amount: 9900 },
    });
    expect(reuse.status).toBe(200);
    expect(reuse.body.code).not.toBe(0);
    const listed = await h.api('GET', '/subscribe/customers/cust-a/payments');
    expect(listed.body.response).toMatchObject({ total: 1, previous: 0, next: 0 });
    expect((await h.api('GET', '/subscribe/customers/nobody/payments')).status).toBe(404);
  });

  it('declines are code 0 with status failed and a fail_reason (magic card and magic amount), no webhook', async () => {
    await issue('cust-d', { card_number: MAGIC.DECLINED_CARD_NUMBER });
    const declinedCard = await h.api('POST', '/subscribe/payments/again', {
      body: { customer_uid: 'cust-d', merchant_uid: 'd-1', amount: 1000 },
    });
    expect(declinedCard.body.code).toBe(0);
    expect(declinedCard.body.response).toMatchObject({ status: 'failed', failed_at: T0, paid_at: 0 });
    expect(declinedCard.body.response.fail_reason).toBeTruthy();

    await issue('cust-ok');
    const declinedAmount = await h.api('POST', '/subscribe/payments/again', {
      body: { customer_uid: 'cust-ok', merchant_uid: 'd-2', amount: MAGIC.DECLINED_AMOUNT },
    });
    expect(declinedAmount.body.response.status).toBe('failed');
    // A failed attempt does not block a retry with the same merchant_uid.
    const retry = await h.api('POST', '/subscribe/payments/again', {
      body: { customer_uid: 'cust-ok', merchant_uid: 'd-2', amount: 1000 },
    });
    expect(retry.body.response.status).toBe('paid');
    await h.control('POST', '/webhooks/flush');
    expect(receiver.received.map((r) => r.body.merchant_uid)).toEqual(['d-2']);
  });

  it('again for an unknown customer is code -1 등록되지 않은 구매자입니다.', async () => {
    const res = await h.api('POST', '/subscribe/payments/again', {
      form: 'customer_uid=ghost&merchant_uid=g-1&amount=1000',
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ code: -1, message: '등록되지 않은 구매자입니다.', response: null });
  });

  it('onetime pays with a key-in card and optionally stores it; bad cards are code -1', async () => {
    const res = await h.api('POST', '/subscribe/payments/onetime', {
      body: cardBody({ merchant_uid: 'o-1', amount: 5000, customer_uid: 'saved', buyer_name: '김철수' }),
    });
    expect(res.body.response).toMatchObject({ status: 'paid', channel: 'api', customer_uid: 'saved' });
    const saved = await h.api('GET', '/subscribe/customers/saved');
    expect(saved.body.response).toMatchObject({ customer_name: '김철수', card_number: '411111******1111' });
    const bad = await h.api('POST', '/subscribe/payments/onetime', {
      body: cardBody({ merchant_uid: 'o-2', amount: 5000, card_number: MAGIC.INVALID_CARD_NUMBER }),
    });
    expect(bad.body).toEqual({
      code: -1,
      message: expect.stringContaining('카드정보 인증에 실패하였습니다.'),
      response: null,
    });
    expect((await h.api('GET', '/payments/find/o-2')).status).toBe(404);
    const declined = await h.api('POST', '/subscribe/payments/onetime', {
      body: cardBody({ merchant_uid: 'o-3', amount: 5000, card_number: MAGIC.DECLINED_CARD_NUMBER }),
    });
    expect(declined.body).toMatchObject({ code: 0, response: { status: 'failed' } });
  });
});
