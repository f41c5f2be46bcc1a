import type { Payment } from '@repo/portone-client';
import { mariadb, uid } from '@repo/test-support';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { buildTestApp, type Harness, type ProblemBody, startHarness } from '../helpers.ts';

const server = await mariadb();

/**
 * A payment made on a test channel (PortOne's `sandbox: true`) never passes as a real one unless the
 * deployment says so (ACCEPT_SANDBOX_PAYMENTS): it does not verify, and its webhook stores nothing.
 */
describe.runIf(server)('test-mode (sandbox) payments (emulator over HTTP, MariaDB)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness(server as string, { listen: true });
  });
  afterAll(async () => {
    await h?.close();
  });

  async function checkout(merchantUid: string, extra: Record<string, unknown> = {}): Promise<Payment> {
    const res = await h.control<{ code: number; response: Payment }>('POST', '/checkout', {
      merchant_uid: merchantUid,
      amount: 10_000,
      ...extra,
    });
    expect(res.body.code).toBe(0);
    return res.body.response;
  }
  const stored = (impUid: string) =>
    h.db.selectFrom('payments').selectAll().where('imp_uid', '=', impUid).executeTakeFirst();
  const deliveries = (impUid: string) =>
    h.db.selectFrom('webhook_deliveries').selectAll().where('imp_uid', '=', impUid).orderBy('id').execute();

  it('by default a sandbox payment does not verify: 422 SANDBOX_PAYMENT, recorded on the payment', async () => {
    const order = uid('sandbox');
    await h.inject({
      method: 'POST',
      url: '/api/v1/payments/prepare',
      payload: { merchant_uid: order, amount: 10_000 },
    });
    // Its own webhook goes nowhere here; the webhook test below sends one.
    const paid = await checkout(order, { sandbox: true, notice_url: 'http://127.0.0.1:9/unused' });
    expect(paid.sandbox).toBe(true);

    const res = await h.inject({ method: 'POST', url: '/api/v1/payments/verify', payload: { imp_uid: paid.imp_uid } });
    expect(res.statusCode, res.body).toBe(422);
    expect(res.json<ProblemBody>()).toMatchObject({ code: 'SANDBOX_PAYMENT', imp_uid: paid.imp_uid, sandbox: true });
    expect(res.json<ProblemBody>().detail).toContain('ACCEPT_SANDBOX_PAYMENTS');
    expect(await stored(paid.imp_uid)).toMatchObject({ verification_status: 'sandbox', sandbox: 1 });

    // The same check on a real payment passes.
    const real = await checkout(uid('real'), { notice_url: 'http://127.0.0.1:9/unused' });
    const ok = await h.inject({
      method: 'POST',
      url: '/api/v1/payments/verify',
      payload: { imp_uid: real.imp_uid, amount: 10_000 },
    });
    expect(ok.statusCode, ok.body).toBe(200);
  });

  it('by default a sandbox payment’s webhook stores nothing: the delivery is recorded `sandbox`', async () => {
    const paid = await checkout(uid('sandbox_hook'), { sandbox: true });
    const [delivery] = await deliveries(paid.imp_uid);
    expect(delivery).toMatchObject({ status: 'paid', state: 'sandbox' });
    expect(String(delivery?.outcome)).toContain('ACCEPT_SANDBOX_PAYMENTS');
    expect(await stored(paid.imp_uid)).toBeUndefined();

    // A stored ready payment is not moved to paid by a sandbox payment's webhook either.
    const vbank = await checkout(uid('sandbox_vb'), {
      sandbox: true,
      pay_method: 'vbank',
      notice_url: 'http://127.0.0.1:9/unused',
    });
    // A lookup stores it (PortOne's own answer, `sandbox` recorded).
    expect((await h.inject({ url: `/api/v1/payments/${vbank.imp_uid}` })).statusCode).toBe(200);
    expect(await stored(vbank.imp_uid)).toMatchObject({ status: 'ready', sandbox: 1 });
    const deposit = await h.control<{ code: number }>('POST', `/vbanks/${vbank.imp_uid}/deposit`, {});
    expect(deposit.body.code).toBe(0);
    const hook = await h.inject({
      method: 'POST',
      url: '/api/v1/webhooks/portone',
      payload: { imp_uid: vbank.imp_uid, merchant_uid: vbank.merchant_uid, status: 'paid' },
    });
    expect(hook.json()).toMatchObject({ state: 'sandbox' });
    expect((await stored(vbank.imp_uid))?.status).toBe('ready');
  });

  describe('with ACCEPT_SANDBOX_PAYMENTS=true (a staging deployment)', () => {
    let staging: FastifyInstance;
    beforeAll(async () => {
      const config = parseConfig({
        DATABASE_URL: 'sqlite::memory:',
        MIGRATE_ON_START: 'false',
        PORTONE_API_URL: h.emulator.url,
        ACCEPT_SANDBOX_PAYMENTS: 'true',
        LOG_LEVEL: 'silent',
      });
      staging = await buildTestApp(config, { db: h.db });
    });
    afterAll(async () => {
      await staging?.close();
    });

    it('verifies a sandbox payment and stores it paid from its webhook', async () => {
      const paid = await checkout(uid('staging'), { sandbox: true, notice_url: 'http://127.0.0.1:9/unused' });
      const verified = await staging.inject({
        method: 'POST',
        url: '/api/v1/payments/verify',
        payload: { imp_uid: paid.imp_uid, amount: 10_000 },
      });
      expect(verified.statusCode, verified.body).toBe(200);
      const hook = await staging.inject({
        method: 'POST',
        url: '/api/v1/webhooks/portone',
        payload: { imp_uid: paid.imp_uid, merchant_uid: paid.merchant_uid, status: 'paid' },
      });
      expect(hook.json()).toMatchObject({ state: 'processed' });
      expect(await stored(paid.imp_uid)).toMatchObject({ status: 'paid', sandbox: 1, verification_status: 'verified' });
    });
  });
});
