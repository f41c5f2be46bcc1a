import type { Payment } from '@repo/portone-client';
import { mariadb, uid } from '@repo/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, type ProblemBody, startHarness } from '../helpers.ts';

const server = await mariadb();

/**
 * Every amount is exact for its currency (KRW and JPY whole, USD cents): anything else is a 400
 * naming the field, and nothing reaches PortOne rounded, or as 0 ("cancel everything").
 */
describe.runIf(server)('amounts are exact for their currency (emulator over HTTP, MariaDB)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness(server as string);
  });
  afterAll(async () => {
    await h?.close();
  });

  async function checkout(amount: number, currency?: string): Promise<Payment> {
    const res = await h.control<{ code: number; response: Payment; message: string | null }>('POST', '/checkout', {
      merchant_uid: uid('amount'),
      amount,
      ...(currency ? { currency } : {}),
    });
    expect(res.body.code, res.body.message ?? '').toBe(0);
    return res.body.response;
  }
  const atPortOne = async (impUid: string) => (await h.control<Payment>('GET', `/payments/${impUid}`)).body;
  const calls = async (route: string) =>
    (await h.control<{ byRoute: Record<string, number> }>('GET', '/stats')).body.byRoute[route] ?? 0;
  const post = (url: string, payload: object) => h.inject({ method: 'POST', url: `/api/v1${url}`, payload });
  const expectInvalid = (res: Awaited<ReturnType<typeof post>>, field: string) => {
    expect(res.statusCode, res.body).toBe(400);
    const body = res.json<ProblemBody>();
    expect(body.code).toBe('VALIDATION_FAILED');
    expect(body.issues?.map((i) => i.field)).toContain(field);
  };

  describe('cancel', () => {
    it('refuses 0.004, 0 and 10.555 on a 10,000 KRW payment: 400, nothing sent, nothing refunded', async () => {
      const paid = await checkout(10_000);
      const before = await calls('POST /payments/cancel');
      for (const amount of [0.004, 0, 10.555, 10.5]) {
        expectInvalid(await post('/payments/cancel', { imp_uid: paid.imp_uid, amount }), 'body.amount');
      }
      for (const field of ['tax_free', 'vat_amount'] as const) {
        expectInvalid(
          await post('/payments/cancel', { imp_uid: paid.imp_uid, amount: 100, [field]: 9.5 }),
          `body.${field}`,
        );
      }
      expect(await calls('POST /payments/cancel')).toBe(before);
      expect((await atPortOne(paid.imp_uid)).cancel_amount).toBe(0);

      const exact = await post('/payments/cancel', { imp_uid: paid.imp_uid, amount: 1000, tax_free: 0 });
      expect(exact.statusCode, exact.body).toBe(200);
      expect((await atPortOne(paid.imp_uid)).cancel_amount).toBe(1000);
    });

    it('takes cents on a USD payment and cancels the exact rest; a third decimal is refused', async () => {
      const paid = await checkout(10.55, 'USD');
      expectInvalid(await post('/payments/cancel', { imp_uid: paid.imp_uid, amount: 0.005 }), 'body.amount');
      const first = await post('/payments/cancel', { imp_uid: paid.imp_uid, amount: 3.2 });
      expect(first.statusCode, first.body).toBe(200);
      // 10.55 − 3.2 is 7.3500000000000005 in floating point: the balance is computed in cents.
      const rest = await post('/payments/cancel', { imp_uid: paid.imp_uid, amount: 7.35 });
      expect(rest.statusCode, rest.body).toBe(200);
      expect(await atPortOne(paid.imp_uid)).toMatchObject({ cancel_amount: 10.55, currency: 'USD' });
    });

    it('a JPY payment is whole yen', async () => {
      const paid = await checkout(1200, 'JPY');
      expectInvalid(await post('/payments/cancel', { imp_uid: paid.imp_uid, amount: 0.5 }), 'body.amount');
      expect((await atPortOne(paid.imp_uid)).cancel_amount).toBe(0);
    });
  });

  it('prepare: exact for the currency named, KRW when none; unknown or unsupported currencies are refused', async () => {
    for (const [payload, field] of [
      [{ amount: 1000.5 }, 'body.amount'],
      [{ amount: 10.5, currency: 'JPY' }, 'body.amount'],
      [{ amount: 10.555, currency: 'USD' }, 'body.amount'],
      [{ amount: 1000, currency: 'XYZ' }, 'body.currency'],
      // Three decimals: the store keeps two.
      [{ amount: 1, currency: 'KWD' }, 'body.currency'],
    ] as const) {
      expectInvalid(await post('/payments/prepare', { merchant_uid: uid('prep'), ...payload }), field);
    }
    const usd = await post('/payments/prepare', { merchant_uid: uid('prep'), amount: 10.55, currency: 'USD' });
    expect(usd.statusCode, usd.body).toBe(201);
    expect(usd.json()).toMatchObject({ amount: 10.55, currency: 'USD' });
  });

  it('vbank, verify, pay and schedules: every amount field is checked', async () => {
    expectInvalid(
      await post('/payments/vbank', { merchant_uid: uid('vb'), amount: 5000.5, vbank_code: '88' }),
      'body.amount',
    );
    expectInvalid(
      await post('/payments/verify', { imp_uid: 'imp_000000000000', amount: 10.5, currency: 'JPY' }),
      'body.amount',
    );
    const pay = { customer_uid: 'c', merchant_uid: 'm', amount: 1000, name: 'n' };
    expectInvalid(await post('/subscriptions/pay', { ...pay, amount: 1000.5 }), 'body.amount');
    expectInvalid(await post('/subscriptions/pay', { ...pay, tax_free: 0.5 }), 'body.tax_free');
    expectInvalid(await post('/subscriptions/pay', { ...pay, vat_amount: 90.9 }), 'body.vat_amount');
    expectInvalid(await post('/subscriptions/pay', { ...pay, amount: 9.999, currency: 'USD' }), 'body.amount');
    const item = { merchant_uid: 'm1', schedule_at: 1_900_000_000, amount: 1000 };
    expectInvalid(
      await post('/subscriptions/schedule', {
        customer_uid: 'c',
        schedules: [item, { ...item, merchant_uid: 'm2', amount: 99.5 }],
      }),
      'body.schedules.1.amount',
    );
    expectInvalid(
      await post('/subscriptions/schedule', {
        customer_uid: 'c',
        schedules: [{ ...item, currency: 'USD', vat_amount: 0.001 }],
      }),
      'body.schedules.0.vat_amount',
    );
  });

  it('verify without a currency checks the amount against the payment’s own currency', async () => {
    const paid = await checkout(10_000);
    expectInvalid(await post('/payments/verify', { imp_uid: paid.imp_uid, amount: 10_000.5 }), 'body.amount');
    const ok = await post('/payments/verify', { imp_uid: paid.imp_uid, amount: 10_000 });
    expect(ok.statusCode, ok.body).toBe(200);

    const usd = await checkout(19.99, 'USD');
    const cents = await post('/payments/verify', { imp_uid: usd.imp_uid, amount: 19.99 });
    expect(cents.statusCode, cents.body).toBe(200);
  });
});
