import { describe, expect, it } from 'vitest';
import { T0, useHarness, useReceiver } from './helpers.ts';

const receiver = useReceiver();
const h = useHarness(() => ({ webhookUrl: receiver.url }));

const cancel = (body: Record<string, unknown>) => h.api('POST', '/payments/cancel', { body });

describe('POST /payments/cancel', () => {
  it('partial then the rest: status cancelled after each, history with cancellation ids, checksum compare-and-set', async () => {
    const p = await h.checkout({ merchant_uid: 'c-1', amount: 10000 });
    await h.advance(60);
    const first = await cancel({ imp_uid: p.imp_uid, amount: 1000, checksum: 10000, reason: 'partial' });
    expect(first.status).toBe(200);
    expect(first.body.code).toBe(0);
    expect(first.body.response).toMatchObject({
      status: 'cancelled',
      amount: 10000,
      cancel_amount: 1000,
      cancelled_at: T0 + 60,
      cancel_reason: 'partial',
    });
    expect(first.body.response.cancel_history).toHaveLength(1);
    expect(first.body.response.cancel_history[0]).toMatchObject({
      amount: 1000,
      reason: 'partial',
      cancelled_at: T0 + 60,
    });
    expect(first.body.response.cancel_history[0].cancellation_id).toMatch(/^cancel_/);

    // The same request replayed (lost response): the balance moved, so the checksum protects it.
    const replay = await cancel({ imp_uid: p.imp_uid, amount: 1000, checksum: 10000 });
    expect(replay.status).toBe(200);
    expect(replay.body.code).toBe(1);
    expect(replay.body.response).toBeNull();
    expect((await h.api('GET', `/payments/${p.imp_uid}`)).body.response.cancel_amount).toBe(1000);

    const tooMuch = await cancel({ imp_uid: p.imp_uid, amount: 9001 });
    expect(tooMuch.body.code).not.toBe(0);
    expect((await h.api('GET', `/payments/${p.imp_uid}`)).body.response.cancel_amount).toBe(1000);

    // amount omitted = the remaining balance; merchant_uid works too.
    const rest = await cancel({ merchant_uid: 'c-1', checksum: 9000 });
    expect(rest.body.response).toMatchObject({ status: 'cancelled', cancel_amount: 10000 });
    const ids = rest.body.response.cancel_history.map((c: { cancellation_id: string }) => c.cancellation_id);
    expect(new Set(ids).size).toBe(2);
    expect(rest.body.response.cancel_receipt_urls).toHaveLength(2);

    const again = await cancel({ imp_uid: p.imp_uid });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ code: 1, message: '이미 전액취소된 주문입니다.', response: null });
  });

  it('amount 0 cancels everything', async () => {
    const p = await h.checkout({ merchant_uid: 'c-0', amount: 700 });
    const res = await cancel({ imp_uid: p.imp_uid, amount: 0 });
    expect(res.body.response.cancel_amount).toBe(700);
  });

  it('unknown targets: code 1 취소할 결제건이 존재하지 않습니다., and imp_uid takes priority over a valid merchant_uid', async () => {
    await h.checkout({ merchant_uid: 'c-2', amount: 100 });
    const wrongImp = await cancel({ imp_uid: 'imp_000000000000', merchant_uid: 'c-2' });
    expect(wrongImp.status).toBe(200);
    expect(wrongImp.body).toEqual({ code: 1, message: '취소할 결제건이 존재하지 않습니다.', response: null });
    expect((await h.api('GET', '/payments/find/c-2')).body.response.cancel_amount).toBe(0);
    expect((await cancel({ merchant_uid: 'nothing' })).body.code).toBe(1);
    const failed = (await h.control('POST', '/checkout', { merchant_uid: 'c-f', amount: 1, outcome: 'failed' })).body
      .response;
    expect((await cancel({ imp_uid: failed.imp_uid })).body.code).toBe(1);
    const none = await cancel({});
    expect(none.status).toBe(400);
    expect(none.body.message).toContain('지정해주셔야합니다');
  });

  it('accepts form bodies, tax_free and vat_amount, and rejects bad numbers with 400', async () => {
    const p = await h.checkout({ merchant_uid: 'c-3', amount: 11000 });
    const res = await h.api('POST', '/payments/cancel', {
      form: `imp_uid=${p.imp_uid}&amount=5500&tax_free=0&vat_amount=500&checksum=11000&reason=form`,
    });
    expect(res.body.code).toBe(0);
    expect(res.body.response.cancel_amount).toBe(5500);
    const bad = await h.api('POST', '/payments/cancel', { form: `imp_uid=${p.imp_uid}&amount=abc` });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('amount');
  });

  it('paid vbanks need the refund account', async () => {
    const v = await h.checkout({ merchant_uid: 'c-v', amount: 3000, pay_method: 'vbank' });
    await h.control('POST', `/vbanks/${v.imp_uid}/deposit`, {});
    const noAccount = await cancel({ imp_uid: v.imp_uid });
    expect(noAccount.body.code).not.toBe(0);
    expect(noAccount.body.response).toBeNull();
    const ok = await cancel({
      imp_uid: v.imp_uid,
      refund_holder: '홍길동',
      refund_bank: '88',
      refund_account: '110123456789',
    });
    expect(ok.body.code).toBe(0);
    expect(ok.body.response.cancel_amount).toBe(3000);
  });

  it('sends a cancelled webhook with cancellation_id only when enable_webhook=true', async () => {
    const p = await h.checkout({ merchant_uid: 'c-w', amount: 2000 });
    receiver.received.length = 0;
    await cancel({ imp_uid: p.imp_uid, amount: 500 });
    await h.control('POST', '/webhooks/flush');
    expect(receiver.received).toHaveLength(0);
    const res = await cancel({ imp_uid: p.imp_uid, amount: 500, enable_webhook: true });
    await h.control('POST', '/webhooks/flush');
    expect(receiver.received.map((r) => r.body)).toEqual([
      {
        imp_uid: p.imp_uid,
        merchant_uid: 'c-w',
        status: 'cancelled',
        cancellation_id: res.body.response.cancel_history[1].cancellation_id,
      },
    ]);
  });
});
