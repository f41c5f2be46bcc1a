import { describe, expect, it } from 'vitest';
import { T0, useHarness, useReceiver } from './helpers.ts';

const receiver = useReceiver();
const h = useHarness(() => ({ webhookUrl: receiver.url, webhookFormat: 'form' }));

const DAY = 86_400;

describe('virtual accounts', () => {
  it('issue → ready webhook → deposit → paid webhook (form-encoded)', async () => {
    const issued = await h.api('POST', '/vbanks', {
      body: { merchant_uid: 'v-1', amount: 15000, vbank_code: '04', vbank_due: T0 + DAY, vbank_holder: '상점' },
    });
    expect(issued.status).toBe(200);
    const v = issued.body.response;
    expect(v).toMatchObject({
      status: 'ready',
      pay_method: 'vbank',
      channel: 'api',
      vbank_code: '004',
      vbank_name: 'KB국민은행',
      vbank_date: T0 + DAY,
      vbank_issued_at: T0,
      vbank_holder: '상점',
      paid_at: 0,
    });
    expect(v.vbank_num).toMatch(/^\d+$/);
    await h.control('POST', '/webhooks/flush');
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(receiver.received[0]?.body).toEqual({ imp_uid: v.imp_uid, merchant_uid: 'v-1', status: 'ready' });

    await h.advance(3600);
    const deposit = await h.control('POST', `/vbanks/${v.imp_uid}/deposit`, { amount: 15000 });
    expect(deposit.body.code).toBe(0);
    expect(deposit.body.response).toMatchObject({ status: 'paid', paid_at: T0 + 3600 });
    expect(receiver.received[1]?.body).toEqual({ imp_uid: v.imp_uid, merchant_uid: 'v-1', status: 'paid' });
    expect((await h.api('GET', `/payments/${v.imp_uid}`)).body.response.status).toBe('paid');

    const twice = await h.control('POST', `/vbanks/${v.imp_uid}/deposit`, {});
    expect(twice.body.code).not.toBe(0);
  });

  it('normalises 2-digit, 3-digit and BKnn bank codes; accepts pg or channel_key; rejects unknown codes', async () => {
    for (const [code, pg] of [
      ['088', 'nice_v2'],
      ['BK81', 'kcp.T0000'],
      ['20', undefined],
    ] as const) {
      const res = await h.api('POST', '/vbanks', {
        body: {
          merchant_uid: `v-${code}`,
          amount: 100,
          vbank_code: code,
          vbank_due: T0 + DAY,
          pg,
          channel_key: pg ? undefined : 'channel-key-x',
        },
      });
      expect(res.body.code).toBe(0);
      expect(res.body.response.vbank_code).toMatch(/^\d{3}$/);
    }
    const bk = await h.api('GET', '/payments/find/v-BK81');
    expect(bk.body.response).toMatchObject({ vbank_code: '081', pg_provider: 'kcp', pg_id: 'T0000' });
    const bad = await h.api('POST', '/vbanks', {
      body: { merchant_uid: 'v-bad', amount: 100, vbank_code: '999', vbank_due: T0 + DAY },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('vbank_code');
    const missing = await h.api('POST', '/vbanks', { body: { merchant_uid: 'v-bad', amount: 100, vbank_code: '004' } });
    expect(missing.status).toBe(400);
    expect(missing.body.message).toContain('vbank_due');
  });

  it('refuses an already paid merchant_uid', async () => {
    await h.checkout({ merchant_uid: 'v-paid', amount: 100 });
    const res = await h.api('POST', '/vbanks', {
      body: { merchant_uid: 'v-paid', amount: 100, vbank_code: '004', vbank_due: T0 + DAY },
    });
    expect(res.status).toBe(200);
    expect(res.body.code).not.toBe(0);
  });

  it('refuses deposits after the due time', async () => {
    const v = await h.checkout({ merchant_uid: 'v-late', amount: 100, pay_method: 'vbank', vbank_due: T0 + 600 });
    await h.advance(601);
    const res = await h.control('POST', `/vbanks/${v.imp_uid}/deposit`, {});
    expect(res.body.code).not.toBe(0);
    expect((await h.api('GET', `/payments/${v.imp_uid}`)).body.response.status).toBe('ready');
  });

  it('PUT changes amount and due; DELETE revokes only ready accounts', async () => {
    const v = (
      await h.api('POST', '/vbanks', {
        body: { merchant_uid: 'v-e', amount: 100, vbank_code: '004', vbank_due: T0 + DAY },
      })
    ).body.response;
    const edited = await h.api('PUT', `/vbanks/${v.imp_uid}`, { form: `amount=200&vbank_due=${T0 + 2 * DAY}` });
    expect(edited.body.response).toMatchObject({ amount: 200, vbank_date: T0 + 2 * DAY });
    const revoked = await h.api('DELETE', `/vbanks/${v.imp_uid}`);
    expect(revoked.body.response).toMatchObject({ status: 'cancelled', cancelled_at: T0 });
    expect((await h.api('DELETE', `/vbanks/${v.imp_uid}`)).status).toBe(400);
    expect((await h.control('POST', `/vbanks/${v.imp_uid}/deposit`, {})).body.code).not.toBe(0);
    expect((await h.api('DELETE', '/vbanks/imp_000000000000')).status).toBe(404);
    const card = await h.checkout({ merchant_uid: 'v-card', amount: 100 });
    expect((await h.api('DELETE', `/vbanks/${card.imp_uid}`)).status).toBe(400);
  });
});
