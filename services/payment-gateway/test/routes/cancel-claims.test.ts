import { createPortOneClient, type Payment } from '@repo/portone-client';
import { DEFAULT_MERCHANT } from '@repo/portone-emulator';
import { mariadb, uid } from '@repo/test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { toDbTime } from '../../src/store/codec.ts';
import { type Harness, startHarness } from '../helpers.ts';

const server = await mariadb();

/** How long PortOne takes to answer a cancel in these tests. */
const SLOW_MS = 4000;

/**
 * A cancel waits for PortOne holding neither a transaction nor a pool connection: cancels of one
 * payment are serialised by a claim on its row, taken and released in short transactions.
 */
describe.runIf(server)('cancels while PortOne is slow (emulator latency fault, MariaDB)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness(server as string, { env: { PORTONE_TIMEOUT_MS: '10000' } });
  });
  afterEach(async () => {
    await h?.control('DELETE', '/faults');
  });
  afterAll(async () => {
    await h?.close();
  });

  async function paid(amount = 10_000): Promise<Payment> {
    const res = await h.control<{ code: number; response: Payment }>('POST', '/checkout', {
      merchant_uid: uid('slow_cancel'),
      amount,
      notice_url: 'http://127.0.0.1:9/unused',
    });
    expect(res.body.code).toBe(0);
    return res.body.response;
  }
  const cancelCalls = async () =>
    (await h.control<{ byRoute: Record<string, number> }>('GET', '/stats')).body.byRoute['POST /payments/cancel'] ?? 0;
  const atPortOne = async (impUid: string) => (await h.control<Payment>('GET', `/payments/${impUid}`)).body;
  const timed = async <T>(run: () => Promise<T>) => {
    const start = performance.now();
    const result = await run();
    return { result, ms: performance.now() - start };
  };

  it('with 20 cancels waiting on PortOne, /ready and webhook ingest keep answering', async () => {
    const payments = await Promise.all(Array.from({ length: 20 }, () => paid()));
    const other = await paid(5000);
    const before = await cancelCalls();
    await h.control('POST', '/faults', { method: 'POST', path: '/payments/cancel', kind: 'latency', delayMs: SLOW_MS });

    const cancels = payments.map((p) =>
      h.inject({ method: 'POST', url: '/api/v1/payments/cancel', payload: { imp_uid: p.imp_uid, amount: 4000 } }),
    );
    // At least half of them are waiting on PortOne (the pool has 10 connections).
    const started = Date.now();
    while ((await cancelCalls()) < before + 10 && Date.now() - started < SLOW_MS) {
      await new Promise((r) => setTimeout(r, 20));
    }

    const ready = await timed(() => h.inject({ url: '/ready' }));
    const hook = await timed(() =>
      h.inject({
        method: 'POST',
        url: '/api/v1/webhooks/portone',
        payload: { imp_uid: other.imp_uid, merchant_uid: other.merchant_uid, status: 'paid' },
      }),
    );
    // Before: both waited for a pool connection held by a cancel's transaction (≥ SLOW_MS).
    expect(ready.result.statusCode, ready.result.body).toBe(200);
    // Half of SLOW_MS: far from the old wait (≥ SLOW_MS), with room for a loaded CI machine.
    expect(ready.ms).toBeLessThan(SLOW_MS / 2);
    expect(hook.result.json()).toMatchObject({ received: true, state: 'processed' });
    expect(hook.ms).toBeLessThan(SLOW_MS / 2);

    const results = await Promise.all(cancels);
    for (const res of results) expect(res.statusCode, res.body).toBe(200);
    for (const p of payments) expect((await atPortOne(p.imp_uid)).cancel_amount).toBe(4000);
  }, 30_000);

  it('cancels of one payment still run one after the other: no over-refund, no checksum refusals', async () => {
    const payment = await paid();
    await h.control('POST', '/faults', { method: 'POST', path: '/payments/cancel', kind: 'latency', delayMs: 300 });
    const results = await Promise.all(
      Array.from({ length: 4 }, () =>
        h.inject({
          method: 'POST',
          url: '/api/v1/payments/cancel',
          payload: { imp_uid: payment.imp_uid, amount: 3000 },
        }),
      ),
    );
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 200, 200, 422]);
    expect((await atPortOne(payment.imp_uid)).cancel_amount).toBe(9000);
    const row = await h.db
      .selectFrom('payments')
      .select(['cancel_amount', 'cancel_claimed_until'])
      .where('imp_uid', '=', payment.imp_uid)
      .executeTakeFirstOrThrow();
    expect(Number(row.cancel_amount)).toBe(9000);
    expect(row.cancel_claimed_until).toBeNull();
  });

  it('a claim its holder never released expires; the next cancel settles from PortOne’s balance', async () => {
    const payment = await paid();
    await h.inject({ url: `/api/v1/payments/${payment.imp_uid}` });
    // A holder claimed the payment, got its cancel of 3000 through at PortOne, and died.
    await h.db
      .updateTable('payments')
      .set({ cancel_claimed_until: toDbTime(new Date(Date.now() + 1500)) })
      .where('imp_uid', '=', payment.imp_uid)
      .execute();
    const direct = createPortOneClient({ baseUrl: h.emulator.url, credentials: DEFAULT_MERCHANT });
    await direct.payments.cancel({ imp_uid: payment.imp_uid, amount: 3000, checksum: 10_000 });
    await direct.close();

    const res = await timed(() =>
      h.inject({ method: 'POST', url: '/api/v1/payments/cancel', payload: { imp_uid: payment.imp_uid, amount: 7000 } }),
    );
    expect(res.result.statusCode, res.result.body).toBe(200);
    expect(res.ms).toBeGreaterThan(1000);
    expect(res.result.json<Payment>().cancel_amount).toBe(10_000);
    const cancels = await h.db
      .selectFrom('payment_cancels')
      .select('amount')
      .where('imp_uid', '=', payment.imp_uid)
      .execute();
    expect(cancels.map((c) => Number(c.amount)).sort()).toEqual([3000, 7000]);
  });
});
