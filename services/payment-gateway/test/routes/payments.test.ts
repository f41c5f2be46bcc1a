import { createPortOneClient, type Payment } from '@repo/portone-client';
import { DEFAULT_MERCHANT } from '@repo/portone-emulator';
import { eventually, mariadb, uid } from '@repo/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppDeps } from '../../src/app.ts';
import { parseConfig } from '../../src/config.ts';
import { buildTestApp, type Harness, type ProblemBody, startHarness } from '../helpers.ts';

const server = await mariadb();
const FIXED_NOW = 1_800_000_000;

describe.runIf(server)('payments routes (emulator over HTTP, MariaDB)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness(server as string);
  });
  afterAll(async () => {
    await h?.close();
  });

  /** A second gateway on this file's database and emulator, with settings or dependencies of its own. */
  const gatewayWith = async (env: Record<string, string>, deps: AppDeps = {}) => {
    const config = parseConfig({
      DATABASE_URL: 'sqlite::memory:',
      PORTONE_API_URL: h.emulator.url,
      LOG_LEVEL: 'silent',
      ...env,
    });
    return buildTestApp({ ...config, MIGRATE_ON_START: false }, { db: h.db, ...deps });
  };

  /** The customer pays in the browser (emulator checkout); returns PortOne's payment. */
  async function checkout(merchantUid: string, amount: number, extra: Record<string, unknown> = {}) {
    const res = await h.control<{ code: number; response: Payment; message: string | null }>('POST', '/checkout', {
      merchant_uid: merchantUid,
      amount,
      ...extra,
    });
    expect(res.body.code, res.body.message ?? '').toBe(0);
    return res.body.response;
  }

  async function storedPayment(impUid: string) {
    return h.db.selectFrom('payments').selectAll().where('imp_uid', '=', impUid).executeTakeFirst();
  }

  async function emulatorPayment(impUid: string) {
    const res = await h.control<Payment>('GET', `/payments/${impUid}`);
    return res.body;
  }

  async function stats() {
    return (await h.control<{ byRoute: Record<string, number> }>('GET', '/stats')).body.byRoute;
  }

  describe('GET /payments/{imp_uid}', () => {
    it('answers an unknown imp_uid (the seed curl) with an honest 404 problem', async () => {
      const res = await h.inject({ method: 'GET', url: '/api/v1/payments/imp_123456789' });
      expect(res.statusCode).toBe(404);
      expect(res.headers['content-type']).toContain('application/problem+json');
      const body = res.json<ProblemBody>();
      expect(body.code).toBe('PORTONE_NOT_FOUND');
      expect(body.portone).toMatchObject({ operation: 'payments.get', status: 404, code: -1 });
    });

    it('fetches a payment from PortOne and stores it', async () => {
      const paid = await checkout(uid('order'), 15000);
      const res = await h.inject({ method: 'GET', url: `/api/v1/payments/${paid.imp_uid}` });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ imp_uid: paid.imp_uid, amount: 15000, status: 'paid' });
      // PortOne's payment as it is, every field (the route's schema names only some), as JSON.
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.json()).toEqual(await emulatorPayment(paid.imp_uid));
      const row = await storedPayment(paid.imp_uid);
      expect(row?.status).toBe('paid');
      expect(Number(row?.amount)).toBe(15000);
    });

    it('asks PortOne on every lookup and stores a change before answering; an unchanged repeat leaves the store alone', async () => {
      const storeQueries: string[] = [];
      const db = h.db.withPlugin({
        transformQuery: (args) => {
          if (JSON.stringify(args.node).includes('"name":"payments"')) storeQueries.push(args.node.kind);
          return args.node;
        },
        transformResult: async (args) => args.result,
      });
      const app = await gatewayWith({}, { db });
      try {
        const paid = await checkout(uid('order'), 10000);
        const lookup = () => app.inject({ method: 'GET', url: `/api/v1/payments/${paid.imp_uid}` });
        const asked = async () => (await stats())['GET /payments/:imp_uid'] ?? 0;
        const before = await asked();

        expect((await lookup()).statusCode).toBe(200);
        expect((await storedPayment(paid.imp_uid))?.status).toBe('paid');
        const firstQueries = storeQueries.length;
        expect(firstQueries).toBeGreaterThan(0);
        for (let i = 0; i < 3; i++) expect((await lookup()).json()).toMatchObject({ status: 'paid' });
        expect(storeQueries.length).toBe(firstQueries);
        expect(await asked()).toBe(before + 4);

        // Cancelled at PortOne behind our back: the next lookup stores it before answering.
        const direct = createPortOneClient({ baseUrl: h.emulator.url, credentials: DEFAULT_MERCHANT });
        await direct.payments.cancel({ imp_uid: paid.imp_uid, amount: 10000, checksum: 10000 });
        await direct.close();
        const res = await lookup();
        expect(res.json()).toMatchObject({ status: 'cancelled', cancel_amount: 10000 });
        const row = await storedPayment(paid.imp_uid);
        expect(row?.status).toBe('cancelled');
        expect(Number(row?.cancel_amount)).toBe(10000);
        expect(await asked()).toBe(before + 5);
      } finally {
        await app.close();
      }
    });

    it('answers 503 when PortOne is down, 200 again once it is back', async () => {
      const paid = await checkout(uid('order'), 1000);
      await h.control('POST', '/faults', { method: 'GET', path: '/payments/:imp_uid', kind: 'status', status: 503 });
      try {
        const res = await h.inject({ method: 'GET', url: `/api/v1/payments/${paid.imp_uid}` });
        expect(res.statusCode).toBe(503);
        expect(res.json<ProblemBody>().code).toBe('PORTONE_UNAVAILABLE');
      } finally {
        await h.control('DELETE', '/faults');
      }
      const again = await h.inject({ method: 'GET', url: `/api/v1/payments/${paid.imp_uid}` });
      expect(again.statusCode).toBe(200);
    });
  });

  describe('GET /payments (our store) and /payments/find/{merchant_uid}', () => {
    it('lists stored payments with status filter and paging', async () => {
      const a = await checkout(uid('list'), 2000);
      const b = await checkout(uid('list'), 3000, { outcome: 'failed' });
      for (const p of [a, b]) await h.inject({ method: 'GET', url: `/api/v1/payments/${p.imp_uid}` });

      const failed = await h.inject({ method: 'GET', url: '/api/v1/payments?status=failed&limit=100' });
      expect(failed.statusCode).toBe(200);
      const failedBody = failed.json<{ total: number; items: { imp_uid: string; status: string }[] }>();
      expect(failedBody.items.map((p) => p.imp_uid)).toContain(b.imp_uid);
      expect(failedBody.items.every((p) => p.status === 'failed')).toBe(true);

      const page = await h.inject({ method: 'GET', url: '/api/v1/payments?page=1&limit=1' });
      const pageBody = page.json<{ total: number; page: number; limit: number; items: unknown[] }>();
      expect(pageBody).toMatchObject({ page: 1, limit: 1 });
      expect(pageBody.items).toHaveLength(1);
      expect(pageBody.total).toBeGreaterThanOrEqual(2);
    });

    it('rejects bad list queries with 400 naming the field', async () => {
      for (const [query, field] of [
        ['status=refunded', 'querystring.status'],
        ['limit=0', 'querystring.limit'],
        ['page=abc', 'querystring.page'],
        ['from=200&to=100', 'querystring.from'],
      ] as const) {
        const res = await h.inject({ method: 'GET', url: `/api/v1/payments?${query}` });
        expect(res.statusCode, query).toBe(400);
        expect(res.json<ProblemBody>().issues?.map((i) => i.field)).toContain(field);
      }
    });

    it('finds by merchant_uid at PortOne; unknown → 404', async () => {
      const merchantUid = uid('find');
      const paid = await checkout(merchantUid, 4000);
      const res = await h.inject({ method: 'GET', url: `/api/v1/payments/find/${merchantUid}` });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ imp_uid: paid.imp_uid, merchant_uid: merchantUid });
      expect(await storedPayment(paid.imp_uid)).toBeDefined();

      const missing = await h.inject({ method: 'GET', url: '/api/v1/payments/find/order_20240101_001_none' });
      expect(missing.statusCode).toBe(404);
    });
  });

  describe('POST /payments/prepare', () => {
    it('registers the seed example at PortOne and in our store', async () => {
      const merchantUid = uid('order_20240101');
      const res = await h.inject({
        method: 'POST',
        url: '/api/v1/payments/prepare',
        payload: { merchant_uid: merchantUid, amount: 10000 },
      });
      expect(res.statusCode).toBe(201);
      expect(res.json()).toEqual({ merchant_uid: merchantUid, amount: 10000, currency: null });
      const row = await h.db
        .selectFrom('prepared_payments')
        .selectAll()
        .where('merchant_uid', '=', merchantUid)
        .executeTakeFirst();
      expect(Number(row?.amount)).toBe(10000);
      // PortOne now refuses a checkout of another amount for this order.
      const tampered = await h.control<{ code: number }>('POST', '/checkout', {
        merchant_uid: merchantUid,
        amount: 100,
      });
      expect(tampered.body.code).not.toBe(0);

      const same = await h.inject({
        method: 'POST',
        url: '/api/v1/payments/prepare',
        payload: { merchant_uid: merchantUid, amount: 10000 },
      });
      expect(same.statusCode).toBe(201);
      const other = await h.inject({
        method: 'POST',
        url: '/api/v1/payments/prepare',
        payload: { merchant_uid: merchantUid, amount: 20000 },
      });
      expect(other.statusCode).toBe(409);
      expect(other.json<ProblemBody>()).toMatchObject({
        code: 'PORTONE_CONFLICT',
        prepared: { amount: 10000 },
        requested: { amount: 20000 },
      });
    });

    it('rejects malformed bodies with 400 naming the field', async () => {
      const cases: [unknown, string][] = [
        [{ amount: 10000 }, 'body.merchant_uid'],
        [{ merchant_uid: 'x' }, 'body.amount'],
        [{ merchant_uid: 'x', amount: -5 }, 'body.amount'],
        [{ merchant_uid: 'x', amount: '10000' }, 'body.amount'],
        [{ merchant_uid: 'x', amount: 1, currency: 'won' }, 'body.currency'],
        [{ merchant_uid: 'x', amount: 1, extra: true }, 'body.extra'],
      ];
      for (const [payload, field] of cases) {
        const res = await h.inject({ method: 'POST', url: '/api/v1/payments/prepare', payload: payload as object });
        expect(res.statusCode, JSON.stringify(payload)).toBe(400);
        const body = res.json<ProblemBody>();
        expect(body.code).toBe('VALIDATION_FAILED');
        expect(body.issues?.map((i) => i.field)).toContain(field);
      }
      const broken = await h.inject({
        method: 'POST',
        url: '/api/v1/payments/prepare',
        headers: { 'content-type': 'application/json' },
        payload: '{"merchant_uid": ',
      });
      expect(broken.statusCode).toBe(400);
    });
  });

  describe('Idempotency-Key', () => {
    it('replays the same request once, refuses another body, and answers a concurrent duplicate 409', async () => {
      const merchantUid = uid('idem');
      const key = uid('key');
      const before = (await stats())['POST /payments/prepare'] ?? 0;
      const send = (amount: number, k = key) =>
        h.inject({
          method: 'POST',
          url: '/api/v1/payments/prepare',
          headers: { 'idempotency-key': k },
          payload: { merchant_uid: merchantUid, amount },
        });
      const first = await send(5000);
      const second = await send(5000);
      expect(first.statusCode).toBe(201);
      expect(second.statusCode).toBe(201);
      expect(second.json()).toEqual(first.json());
      expect(second.headers['idempotent-replayed']).toBe('true');
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      expect((await stats())['POST /payments/prepare']).toBe(before + 1);

      const different = await send(6000);
      expect(different.statusCode).toBe(422);
      expect(different.json<ProblemBody>().code).toBe('IDEMPOTENCY_KEY_REUSED');

      // Concurrent: the first request is held at PortOne while the second arrives.
      const slowKey = uid('key');
      await h.control('POST', '/faults', {
        method: 'POST',
        path: '/payments/prepare',
        kind: 'latency',
        delayMs: 700,
        times: 1,
      });
      const slowMerchant = uid('idem');
      const body = { merchant_uid: slowMerchant, amount: 700 };
      const a = h.inject({
        method: 'POST',
        url: '/api/v1/payments/prepare',
        headers: { 'idempotency-key': slowKey },
        payload: body,
      });
      await new Promise((r) => setTimeout(r, 200));
      const b = await h.inject({
        method: 'POST',
        url: '/api/v1/payments/prepare',
        headers: { 'idempotency-key': slowKey },
        payload: body,
      });
      expect(b.statusCode).toBe(409);
      expect(b.json<ProblemBody>().code).toBe('IDEMPOTENCY_IN_FLIGHT');
      expect((await a).statusCode).toBe(201);
      await h.control('DELETE', '/faults');
    });

    it('abandons the key when the request failed without moving money, so a retry runs', async () => {
      const key = uid('key');
      const merchantUid = uid('idem');
      await h.control('POST', '/faults', { method: 'POST', path: '/payments/prepare', kind: 'status', status: 503 });
      const failed = await h.inject({
        method: 'POST',
        url: '/api/v1/payments/prepare',
        headers: { 'idempotency-key': key },
        payload: { merchant_uid: merchantUid, amount: 100 },
      });
      await h.control('DELETE', '/faults');
      expect(failed.statusCode).toBe(503);
      const retry = await h.inject({
        method: 'POST',
        url: '/api/v1/payments/prepare',
        headers: { 'idempotency-key': key },
        payload: { merchant_uid: merchantUid, amount: 100 },
      });
      expect(retry.statusCode).toBe(201);
      expect(retry.headers['idempotent-replayed']).toBeUndefined();
    });

    it('rejects an unusable key', async () => {
      const res = await h.inject({
        method: 'POST',
        url: '/api/v1/payments/prepare',
        headers: { 'idempotency-key': 'x'.repeat(300) },
        payload: { merchant_uid: uid('idem'), amount: 100 },
      });
      expect(res.statusCode).toBe(400);
    });
  });

  describe('POST /payments/verify', () => {
    it('verifies a payment against what was prepared', async () => {
      const merchantUid = uid('verify');
      await h.inject({
        method: 'POST',
        url: '/api/v1/payments/prepare',
        payload: { merchant_uid: merchantUid, amount: 10000 },
      });
      const paid = await checkout(merchantUid, 10000);
      const res = await h.inject({
        method: 'POST',
        url: '/api/v1/payments/verify',
        payload: { imp_uid: paid.imp_uid },
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ verified: true, payment: { imp_uid: paid.imp_uid, amount: 10000 } });
      const row = await storedPayment(paid.imp_uid);
      expect(row?.verification_status).toBe('verified');
    });

    it('answers the seed verify example for an unknown imp_uid with 404', async () => {
      const res = await h.inject({
        method: 'POST',
        url: '/api/v1/payments/verify',
        payload: { imp_uid: 'imp_123456789', amount: 10000, status: 'paid' },
      });
      expect(res.statusCode).toBe(404);
    });

    it('catches a forged amount: 422 with expected and actual, payment left alone', async () => {
      // Prepared 10000, but the customer paid 100 on a tampered merchant_uid.
      const order = uid('forge');
      await h.inject({
        method: 'POST',
        url: '/api/v1/payments/prepare',
        payload: { merchant_uid: order, amount: 10000 },
      });
      const paid = await checkout(uid('tampered'), 100);
      const res = await h.inject({
        method: 'POST',
        url: '/api/v1/payments/verify',
        payload: { imp_uid: paid.imp_uid, merchant_uid: order },
      });
      expect(res.statusCode).toBe(422);
      const body = res.json<ProblemBody>();
      expect(body.code).toBe('AMOUNT_MISMATCH');
      expect(body.expected).toMatchObject({ amount: 10000 });
      expect(body.actual).toMatchObject({ amount: 100, status: 'paid' });
      expect(body.mismatches).toEqual(
        expect.arrayContaining([
          { field: 'amount', expected: 10000, actual: 100 },
          { field: 'merchant_uid', expected: order, actual: paid.merchant_uid },
        ]),
      );
      expect(body.cancelled).toBe(false);
      expect(body.detail).toContain('10000');
      expect(body.detail).toContain('100');
      expect((await emulatorPayment(paid.imp_uid)).status).toBe('paid');
      expect((await storedPayment(paid.imp_uid))?.verification_status).not.toBe('verified');
    });

    it('catches a payment made before the amount was prepared (prepare bypassed)', async () => {
      const order = uid('forge');
      const paid = await checkout(order, 100);
      await h.inject({
        method: 'POST',
        url: '/api/v1/payments/prepare',
        payload: { merchant_uid: order, amount: 10000 },
      });
      const res = await h.inject({
        method: 'POST',
        url: '/api/v1/payments/verify',
        payload: { imp_uid: paid.imp_uid },
      });
      expect(res.statusCode).toBe(422);
      expect(res.json<ProblemBody>()).toMatchObject({ expected: { amount: 10000 }, actual: { amount: 100 } });
    });

    it('cancels the forged payment when CANCEL_FORGED_PAYMENTS=true', async () => {
      const strict = await gatewayWith({ CANCEL_FORGED_PAYMENTS: 'true' });
      try {
        const order = uid('forge');
        await strict.inject({
          method: 'POST',
          url: '/api/v1/payments/prepare',
          payload: { merchant_uid: order, amount: 10000 },
        });
        const paid = await checkout(uid('tampered'), 100);
        const res = await strict.inject({
          method: 'POST',
          url: '/api/v1/payments/verify',
          payload: { imp_uid: paid.imp_uid, merchant_uid: order },
        });
        expect(res.statusCode).toBe(422);
        const body = res.json<ProblemBody>();
        expect(body).toMatchObject({ forged: true, cancelled: true });
        expect(body.detail).toContain('cancelled');
        const after = await emulatorPayment(paid.imp_uid);
        expect(after).toMatchObject({ status: 'cancelled', cancel_amount: 100 });
        expect((await storedPayment(paid.imp_uid))?.status).toBe('cancelled');
      } finally {
        await strict.close();
      }
    });

    it('reports a status mismatch without cancelling', async () => {
      const order = uid('vb');
      const issued = await h.inject({
        method: 'POST',
        url: '/api/v1/payments/vbank',
        payload: { merchant_uid: order, amount: 5000, vbank_code: '88', vbank_holder: '홍길동' },
      });
      const impUid = issued.json<Payment>().imp_uid;
      const res = await h.inject({
        method: 'POST',
        url: '/api/v1/payments/verify',
        payload: { imp_uid: impUid, amount: 5000, status: 'paid' },
      });
      expect(res.statusCode).toBe(422);
      expect(res.json<ProblemBody>()).toMatchObject({
        forged: false,
        mismatches: [{ field: 'status', expected: 'paid', actual: 'ready' }],
      });
    });

    it('rejects malformed bodies with 400 naming the field', async () => {
      for (const [payload, field] of [
        [{}, 'body.imp_uid'],
        [{ imp_uid: 'imp_1', amount: 'ten' }, 'body.amount'],
        [{ imp_uid: 'imp_1', status: 'done' }, 'body.status'],
      ] as const) {
        const res = await h.inject({ method: 'POST', url: '/api/v1/payments/verify', payload });
        expect(res.statusCode).toBe(400);
        expect(res.json<ProblemBody>().issues?.map((i) => i.field)).toContain(field);
      }
    });
  });

  describe('POST /payments/cancel', () => {
    it('cancels partially, then the rest, then refuses: never more than the balance', async () => {
      const paid = await checkout(uid('cancel'), 10000);
      const partial = await h.inject({
        method: 'POST',
        url: '/api/v1/payments/cancel',
        payload: { imp_uid: paid.imp_uid, reason: '고객 요청에 의한 취소', amount: 5000 },
      });
      expect(partial.statusCode).toBe(200);
      expect(partial.json()).toMatchObject({ imp_uid: paid.imp_uid, cancel_amount: 5000, status: 'cancelled' });

      const tooMuch = await h.inject({
        method: 'POST',
        url: '/api/v1/payments/cancel',
        payload: { imp_uid: paid.imp_uid, amount: 6000 },
      });
      expect(tooMuch.statusCode).toBe(422);
      expect(tooMuch.json<ProblemBody>()).toMatchObject({
        code: 'CANCEL_AMOUNT_EXCEEDS_BALANCE',
        requested: 6000,
        cancellable: 5000,
      });

      const rest = await h.inject({
        method: 'POST',
        url: '/api/v1/payments/cancel',
        payload: { merchant_uid: paid.merchant_uid, reason: 'rest' },
      });
      expect(rest.statusCode).toBe(200);
      expect(rest.json()).toMatchObject({ cancel_amount: 10000 });

      const again = await h.inject({
        method: 'POST',
        url: '/api/v1/payments/cancel',
        payload: { imp_uid: paid.imp_uid },
      });
      expect(again.statusCode).toBe(409);
      expect(again.json<ProblemBody>().code).toBe('ALREADY_CANCELLED');

      const row = await storedPayment(paid.imp_uid);
      expect(Number(row?.cancel_amount)).toBe(10000);
      const cancels = await h.db
        .selectFrom('payment_cancels')
        .selectAll()
        .where('imp_uid', '=', paid.imp_uid)
        .execute();
      expect(cancels.map((c) => Number(c.amount)).sort()).toEqual([5000, 5000]);
    });

    it('lets exactly three of five concurrent 3000 cancels through on a 10000 payment', async () => {
      const paid = await checkout(uid('race'), 10000);
      const results = await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          h.inject({
            method: 'POST',
            url: '/api/v1/payments/cancel',
            payload: { imp_uid: paid.imp_uid, amount: 3000, reason: `race ${i}` },
          }),
        ),
      );
      const statuses = results.map((r) => r.statusCode).sort();
      expect(statuses).toEqual([200, 200, 200, 422, 422]);
      for (const r of results.filter((x) => x.statusCode === 422)) {
        expect(r.json<ProblemBody>()).toMatchObject({ code: 'CANCEL_AMOUNT_EXCEEDS_BALANCE', cancellable: 1000 });
      }
      const atPortOne = await emulatorPayment(paid.imp_uid);
      expect(atPortOne.cancel_amount).toBe(9000);
      expect(atPortOne.cancel_history).toHaveLength(3);
      expect(Number((await storedPayment(paid.imp_uid))?.cancel_amount)).toBe(9000);
    });

    it('answers 409 with PortOne’s message when the balance changed at PortOne (checksum)', async () => {
      // A gateway whose PortOne timeout is well above the hold below: with the harness's 1.5 s, equal to
      // the hold, the gateway's cancel timed out (502) now and then on a loaded machine.
      const patient = await gatewayWith({ PORTONE_TIMEOUT_MS: '10000' });
      try {
        const paid = await checkout(uid('checksum'), 10000);
        // The console's client is ready (token fetched) before the window opens, so that the refund
        // lands inside the gateway's held cancel on a loaded machine too.
        const direct = createPortOneClient({ baseUrl: h.emulator.url, credentials: DEFAULT_MERCHANT });
        await direct.payments.get({ imp_uid: paid.imp_uid });
        const fault = await h.control<{ id: string }>('POST', '/faults', {
          method: 'POST',
          path: '/payments/cancel',
          kind: 'latency',
          delayMs: 3000,
          times: 1,
        });
        const gateway = patient.inject({
          method: 'POST',
          url: '/api/v1/payments/cancel',
          payload: { imp_uid: paid.imp_uid, amount: 2000 },
        });
        // The gateway's cancel is held at PortOne (the latency fault was applied to it), not merely sent.
        await eventually(async () => {
          const faults = await h.control<{ id: string; applied: number }[]>('GET', '/faults');
          return faults.body.find((f) => f.id === fault.body.id)?.applied === 1;
        });
        // Someone refunds 1000 in PortOne's console meanwhile.
        await direct.payments.cancel({ imp_uid: paid.imp_uid, amount: 1000, checksum: 10000 });
        await direct.close();
        const res = await gateway;
        await h.control('DELETE', '/faults');
        expect(res.statusCode).toBe(409);
        const body = res.json<ProblemBody>();
        expect(body.code).toBe('CANCEL_CHECKSUM_MISMATCH');
        expect(body.detail).toContain('checksum');
        expect((await emulatorPayment(paid.imp_uid)).cancel_amount).toBe(1000);
      } finally {
        await patient.close();
      }
    });

    it('replays an idempotent cancel without refunding twice', async () => {
      const paid = await checkout(uid('idemcancel'), 8000);
      const send = () =>
        h.inject({
          method: 'POST',
          url: '/api/v1/payments/cancel',
          headers: { 'idempotency-key': `cancel-${paid.imp_uid}` },
          payload: { imp_uid: paid.imp_uid, amount: 1000 },
        });
      const first = await send();
      const second = await send();
      expect(first.statusCode).toBe(200);
      expect(second.statusCode).toBe(200);
      expect(second.headers['idempotent-replayed']).toBe('true');
      expect((await emulatorPayment(paid.imp_uid)).cancel_amount).toBe(1000);
    });

    it('refuses to cancel an unpaid virtual account (409) and unknown payments (404)', async () => {
      const issued = await h.inject({
        method: 'POST',
        url: '/api/v1/payments/vbank',
        payload: { merchant_uid: uid('vb'), amount: 5000, vbank_code: '88' },
      });
      const ready = await h.inject({
        method: 'POST',
        url: '/api/v1/payments/cancel',
        payload: { imp_uid: issued.json<Payment>().imp_uid },
      });
      expect(ready.statusCode).toBe(409);
      expect(ready.json<ProblemBody>().code).toBe('PAYMENT_NOT_CANCELLABLE');

      const unknown = await h.inject({
        method: 'POST',
        url: '/api/v1/payments/cancel',
        payload: { imp_uid: 'imp_123456789', reason: '고객 요청에 의한 취소', amount: 5000 },
      });
      expect(unknown.statusCode).toBe(404);
    });

    it('rejects malformed bodies with 400 naming the field', async () => {
      for (const [payload, field] of [
        [{ reason: 'x' }, 'body.imp_uid'],
        [{ imp_uid: 'imp_1', amount: -1 }, 'body.amount'],
        [{ imp_uid: 'imp_1', refund_bank: 'too-long-code' }, 'body.refund_bank'],
        [{ imp_uid: 'imp_1', tax_free: 'x' }, 'body.tax_free'],
      ] as const) {
        const res = await h.inject({ method: 'POST', url: '/api/v1/payments/cancel', payload });
        expect(res.statusCode, JSON.stringify(payload)).toBe(400);
        expect(res.json<ProblemBody>().issues?.map((i) => i.field)).toContain(field);
      }
    });
  });

  describe('POST /payments/vbank', () => {
    it("issues the seed example with a default due date from PortOne's clock, not the gateway's", async () => {
      const clocked = await gatewayWith({}, { clock: () => new Date(FIXED_NOW * 1000) });
      try {
        const merchantUid = uid('vbank_20240101');
        const res = await clocked.inject({
          method: 'POST',
          url: '/api/v1/payments/vbank',
          payload: {
            merchant_uid: merchantUid,
            amount: 50000,
            vbank_code: '88',
            vbank_holder: '홍길동',
            name: '테스트 상품',
            buyer_name: '홍길동',
            buyer_email: 'test@example.com',
            buyer_tel: '010-1234-5678',
          },
        });
        expect(res.statusCode).toBe(201);
        const payment = res.json<Payment>();
        expect(payment).toMatchObject({
          merchant_uid: merchantUid,
          amount: 50000,
          status: 'ready',
          pay_method: 'vbank',
        });
        // The gateway's own clock says FIXED_NOW; PortOne's (the emulator's, frozen) says otherwise and wins.
        const { now: portoneNow } = (await h.control<{ now: number }>('GET', '/clock')).body;
        expect(Math.abs(portoneNow - FIXED_NOW)).toBeGreaterThan(86400);
        const due = payment.vbank_date ?? 0;
        expect(due).toBeGreaterThanOrEqual(portoneNow + 3 * 86400);
        expect(due).toBeLessThan(portoneNow + 3 * 86400 + 300);
        expect(due - (payment.vbank_issued_at ?? 0)).toBeLessThan(3 * 86400 + 300);
        expect(payment.vbank_num).toBeTruthy();
        expect((await storedPayment(payment.imp_uid))?.status).toBe('ready');
      } finally {
        await clocked.close();
      }
    });

    it('resolves a lost answer by looking the merchant_uid up, never issuing twice', async () => {
      const merchantUid = uid('vblost');
      const key = uid('key');
      const before = (await stats())['POST /vbanks'] ?? 0;
      await h.control('POST', '/faults', { method: 'POST', path: '/vbanks', kind: 'timeout-after-commit', times: 1 });
      const res = await h.inject({
        method: 'POST',
        url: '/api/v1/payments/vbank',
        headers: { 'idempotency-key': key },
        payload: { merchant_uid: merchantUid, amount: 7000, vbank_code: '004' },
      });
      await h.control('DELETE', '/faults');
      expect(res.statusCode).toBe(201);
      expect(res.json()).toMatchObject({ merchant_uid: merchantUid, status: 'ready' });
      expect((await stats())['POST /vbanks']).toBe(before + 1);
    });

    it('answers 502 "outcome unknown" when the lost charge is not found, and a retry only looks up', async () => {
      const merchantUid = uid('vbreset');
      const key = uid('key');
      const before = (await stats())['POST /vbanks'] ?? 0;
      await h.control('POST', '/faults', { method: 'POST', path: '/vbanks', kind: 'reset' });
      const send = () =>
        h.inject({
          method: 'POST',
          url: '/api/v1/payments/vbank',
          headers: { 'idempotency-key': key },
          payload: { merchant_uid: merchantUid, amount: 7000, vbank_code: '004' },
        });
      const first = await send();
      expect(first.statusCode).toBe(502);
      expect(first.json<ProblemBody>().code).toBe('PORTONE_OUTCOME_UNKNOWN');
      expect(first.json<ProblemBody>().detail).toContain('merchant_uid');
      const afterFirst = (await stats())['POST /vbanks'] ?? 0;
      expect(afterFirst).toBeGreaterThan(before);

      await h.control('DELETE', '/faults');
      const retry = await send();
      expect(retry.statusCode).toBe(502);
      expect(retry.json<ProblemBody>().code).toBe('PORTONE_OUTCOME_UNKNOWN');
      // The retry looked the merchant_uid up; it did not issue again.
      expect((await stats())['POST /vbanks'] ?? 0).toBe(afterFirst);
    });

    it('rejects malformed bodies with 400 naming the field', async () => {
      for (const [payload, field] of [
        [{ amount: 1, vbank_code: '88' }, 'body.merchant_uid'],
        [{ merchant_uid: 'x', vbank_code: '88' }, 'body.amount'],
        [{ merchant_uid: 'x', amount: 1 }, 'body.vbank_code'],
        [{ merchant_uid: 'x', amount: 1, vbank_code: 'shinhan' }, 'body.vbank_code'],
        [{ merchant_uid: 'x', amount: 1, vbank_code: '88', vbank_due: 'tomorrow' }, 'body.vbank_due'],
      ] as const) {
        const res = await h.inject({ method: 'POST', url: '/api/v1/payments/vbank', payload });
        expect(res.statusCode, JSON.stringify(payload)).toBe(400);
        expect(res.json<ProblemBody>().issues?.map((i) => i.field)).toContain(field);
      }
    });
  });

  it('records every PortOne call for audit', async () => {
    const paid = await checkout(uid('audit'), 1200);
    await h.inject({ method: 'GET', url: `/api/v1/payments/${paid.imp_uid}` });
    // Audit writes do not hold up the answer; they land shortly after.
    const calls = await eventually(async () => {
      const rows = await h.db.selectFrom('portone_calls').selectAll().where('operation', '=', 'payments.get').execute();
      return rows.length > 0 && rows;
    });
    expect(calls[0]?.imp_key_masked).not.toContain('imp_emulator_key');
    expect(calls[0]?.request_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/); // generated: the caller sent none
    expect(calls.some((c) => c.http_status === 200)).toBe(true);
  });
});
