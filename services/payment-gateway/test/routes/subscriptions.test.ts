import { createHash } from 'node:crypto';
import { createPortOneClient, type Payment, type ScheduleResult } from '@repo/portone-client';
import { DEFAULT_MERCHANT, MAGIC } from '@repo/portone-emulator';
import { mariadb, uid } from '@repo/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, type ProblemBody, startHarness } from '../helpers.ts';

const server = await mariadb();

const CARD = '4111-1111-1111-1111';
const VALID_EXPIRY = '2099-12';

describe.runIf(server)('subscriptions routes (emulator over HTTP, MariaDB)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness(server as string);
  });
  afterAll(async () => {
    await h?.close();
  });

  async function issueKey(customerUid: string, card = CARD) {
    const res = await h.inject({
      method: 'POST',
      url: '/api/v1/subscriptions/billing-key',
      payload: {
        customer_uid: customerUid,
        card_number: card,
        expiry: VALID_EXPIRY,
        birth: '900101',
        pwd_2digit: '00',
        customer_name: '홍길동',
        customer_email: 'test@example.com',
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json<{ customer_uid: string; card_number: string }>();
  }

  async function stats() {
    return (await h.control<{ byRoute: Record<string, number> }>('GET', '/stats')).body.byRoute;
  }

  async function emulatorNow() {
    return (await h.control<{ now: number }>('GET', '/clock')).body.now;
  }

  describe('billing keys', () => {
    it('issues a key: card data goes to PortOne only; our store keeps the masked metadata', async () => {
      const customerUid = uid('customer');
      const key = await issueKey(customerUid);
      expect(key.customer_uid).toBe(customerUid);
      expect(key.card_number).not.toContain('1111-1111-1111');
      expect(key.card_number).toMatch(/\*/);

      const row = await h.db
        .selectFrom('billing_keys')
        .selectAll()
        .where('customer_uid', '=', customerUid)
        .executeTakeFirstOrThrow();
      expect(row.card_number).toBe(key.card_number);
      expect(JSON.stringify(row)).not.toContain('4111111111111111');
      expect(JSON.stringify(row)).not.toContain('900101');

      const logs = h.logs.text();
      expect(logs).not.toContain('4111-1111-1111-1111');
      expect(logs).not.toContain('4111111111111111');
      expect(logs).not.toContain('900101');
      expect(logs).not.toContain(VALID_EXPIRY);
      expect(logs).not.toContain('pwd_2digit":"00');
      expect(logs).not.toContain('imp_emulator_secret');
    });

    it('the Idempotency-Key row cannot be used to test guesses of the card: its request hash is keyed', async () => {
      const customerUid = uid('customer');
      const body = { customer_uid: customerUid, card_number: CARD, expiry: VALID_EXPIRY, birth: '900101' };
      const key = uid('key');
      const send = () =>
        h.inject({
          method: 'POST',
          url: '/api/v1/subscriptions/billing-key',
          headers: { 'idempotency-key': key },
          payload: body,
        });
      expect((await send()).statusCode).toBe(201);
      const row = await h.db
        .selectFrom('idempotency_keys')
        .select('body_hash')
        .where('idem_key', '=', key)
        .executeTakeFirstOrThrow();
      // What a reader of the table could compute for each guessed card number: sha256 of the request.
      const sorted = Object.fromEntries(Object.entries(body).sort(([a], [b]) => (a < b ? -1 : 1)));
      const guess = createHash('sha256')
        .update(`POST\n/api/v1/subscriptions/billing-key\n${JSON.stringify(sorted)}`)
        .digest('hex');
      expect(row.body_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(row.body_hash).not.toBe(guess);
      // The keyed hash still identifies the request: the same body replays.
      const again = await send();
      expect(again.statusCode).toBe(201);
      expect(again.headers['idempotent-replayed']).toBe('true');
    });

    it('refuses the seed example card (expiry 2025-12 is in the past): 422 with PortOne’s message', async () => {
      const res = await h.inject({
        method: 'POST',
        url: '/api/v1/subscriptions/billing-key',
        payload: {
          customer_uid: 'customer_001',
          card_number: '1234-5678-9012-3456',
          expiry: '2025-12',
          birth: '900101',
          pwd_2digit: '00',
          customer_name: '홍길동',
          customer_email: 'test@example.com',
        },
      });
      expect(res.statusCode).toBe(422);
      const body = res.json<ProblemBody>();
      expect(body.code).toBe('PORTONE_REJECTED');
      expect(body.portone).toMatchObject({ operation: 'billingKeys.issue', code: -1 });
      expect(h.logs.text()).not.toContain('1234-5678-9012-3456');
    });

    it('gets a key from PortOne, lists keys from our store, deletes it', async () => {
      const customerUid = uid('customer');
      await issueKey(customerUid);
      const got = await h.inject({ method: 'GET', url: `/api/v1/subscriptions/billing-key/${customerUid}` });
      expect(got.statusCode).toBe(200);
      expect(got.json()).toMatchObject({ customer_uid: customerUid });

      const list = await h.inject({ method: 'GET', url: '/api/v1/subscriptions?limit=100' });
      expect(list.statusCode).toBe(200);
      const listed = list.json<{ items: { customer_uid: string }[]; next: number }>();
      expect(listed.items.map((k) => k.customer_uid)).toContain(customerUid);

      const deleted = await h.inject({
        method: 'DELETE',
        url: `/api/v1/subscriptions/billing-key/${customerUid}`,
      });
      expect(deleted.statusCode).toBe(200);
      expect(deleted.json()).toMatchObject({ customer_uid: customerUid });
      const row = await h.db
        .selectFrom('billing_keys')
        .select('deleted_at')
        .where('customer_uid', '=', customerUid)
        .executeTakeFirstOrThrow();
      expect(row.deleted_at).not.toBeNull();

      const afterList = await h.inject({ method: 'GET', url: '/api/v1/subscriptions?limit=100' });
      expect(afterList.json<{ items: { customer_uid: string }[] }>().items.map((k) => k.customer_uid)).not.toContain(
        customerUid,
      );
      const gone = await h.inject({ method: 'GET', url: `/api/v1/subscriptions/billing-key/${customerUid}` });
      expect(gone.statusCode).toBe(404);
      expect(gone.json<ProblemBody>().code).toBe('BILLING_KEY_NOT_FOUND');
      const again = await h.inject({ method: 'DELETE', url: `/api/v1/subscriptions/billing-key/${customerUid}` });
      expect(again.statusCode).toBe(404);
    });

    it('pages the list', async () => {
      for (let i = 0; i < 3; i++) await issueKey(uid('pager'));
      const all = await h.inject({ method: 'GET', url: '/api/v1/subscriptions?limit=100' });
      const total = all.json<{ total: number }>().total;
      expect(total).toBeGreaterThanOrEqual(3);
      const first = await h.inject({ method: 'GET', url: '/api/v1/subscriptions?page=1&limit=2' });
      const body = first.json<{ items: unknown[]; next: number; total: number }>();
      expect(body.items).toHaveLength(2);
      expect(body.next).toBe(2);
      expect(body.total).toBe(total);
      const lastPage = Math.ceil(total / 2);
      const last = await h.inject({ method: 'GET', url: `/api/v1/subscriptions?page=${lastPage}&limit=2` });
      expect(last.json()).toMatchObject({ total, page: lastPage, next: 0 });
      expect(last.json<{ items: unknown[] }>().items).toHaveLength(total - (lastPage - 1) * 2);
      const bad = await h.inject({ method: 'GET', url: '/api/v1/subscriptions?limit=1000' });
      expect(bad.statusCode).toBe(400);
      expect(bad.json<ProblemBody>().issues?.map((i) => i.field)).toContain('querystring.limit');
    });

    it('rejects malformed bodies with 400 naming the field', async () => {
      const base = { customer_uid: 'c1', card_number: CARD, expiry: VALID_EXPIRY };
      for (const [payload, field] of [
        [{ ...base, customer_uid: undefined }, 'body.customer_uid'],
        [{ ...base, card_number: 'abcd' }, 'body.card_number'],
        [{ ...base, expiry: '12/29' }, 'body.expiry'],
        [{ ...base, birth: '1990-01-01' }, 'body.birth'],
        [{ ...base, pwd_2digit: '123' }, 'body.pwd_2digit'],
        [{ ...base, cvc_code: '123' }, 'body.cvc_code'],
      ] as const) {
        const res = await h.inject({ method: 'POST', url: '/api/v1/subscriptions/billing-key', payload });
        expect(res.statusCode, JSON.stringify(payload)).toBe(400);
        expect(res.json<ProblemBody>().issues?.map((i) => i.field)).toContain(field);
        // The problem names fields, never echoes the card number.
        expect(res.body).not.toContain('4111-1111');
      }
    });
  });

  describe('POST /subscriptions/pay', () => {
    it('charges a billing key (the seed example) and stores the payment', async () => {
      const customerUid = uid('customer');
      await issueKey(customerUid);
      const merchantUid = uid('subscription_20240101');
      const res = await h.inject({
        method: 'POST',
        url: '/api/v1/subscriptions/pay',
        payload: { customer_uid: customerUid, merchant_uid: merchantUid, amount: 9900, name: '월간 구독' },
      });
      expect(res.statusCode).toBe(201);
      const payment = res.json<Payment>();
      expect(payment).toMatchObject({
        merchant_uid: merchantUid,
        amount: 9900,
        status: 'paid',
        customer_uid: customerUid,
      });
      const row = await h.db
        .selectFrom('payments')
        .selectAll()
        .where('imp_uid', '=', payment.imp_uid)
        .executeTakeFirstOrThrow();
      expect(row.status).toBe('paid');
    });

    it('answers a decline with 422 carrying PortOne’s fail_reason; the failed payment is stored', async () => {
      const customerUid = uid('customer');
      await issueKey(customerUid, MAGIC.DECLINED_CARD_NUMBER);
      const res = await h.inject({
        method: 'POST',
        url: '/api/v1/subscriptions/pay',
        payload: { customer_uid: customerUid, merchant_uid: uid('declined'), amount: 9900, name: '월간 구독' },
      });
      expect(res.statusCode).toBe(422);
      const body = res.json<ProblemBody>();
      expect(body.code).toBe('PAYMENT_DECLINED');
      expect(String(body.fail_reason)).toContain('F0001');
      const row = await h.db
        .selectFrom('payments')
        .selectAll()
        .where('imp_uid', '=', String(body.imp_uid))
        .executeTakeFirstOrThrow();
      expect(row.status).toBe('failed');
    });

    it('answers an unknown customer with 422 (PortOne’s code and message)', async () => {
      const res = await h.inject({
        method: 'POST',
        url: '/api/v1/subscriptions/pay',
        payload: { customer_uid: uid('nobody'), merchant_uid: uid('m'), amount: 9900, name: 'x' },
      });
      expect(res.statusCode).toBe(422);
      expect(res.json<ProblemBody>().portone).toMatchObject({ operation: 'subscribe.again' });
    });

    it('charges once per Idempotency-Key: the replay does not reach PortOne', async () => {
      const customerUid = uid('customer');
      await issueKey(customerUid);
      const key = uid('key');
      const payload = { customer_uid: customerUid, merchant_uid: uid('idem'), amount: 1000, name: 'idem' };
      const before = (await stats())['POST /subscribe/payments/again'] ?? 0;
      const first = await h.inject({
        method: 'POST',
        url: '/api/v1/subscriptions/pay',
        headers: { 'idempotency-key': key },
        payload,
      });
      const second = await h.inject({
        method: 'POST',
        url: '/api/v1/subscriptions/pay',
        headers: { 'idempotency-key': key },
        payload,
      });
      expect(first.statusCode).toBe(201);
      expect(second.statusCode).toBe(201);
      expect(second.json()).toEqual(first.json());
      expect(second.headers['idempotent-replayed']).toBe('true');
      expect((await stats())['POST /subscribe/payments/again']).toBe(before + 1);
    });

    it('resolves a lost answer by looking the merchant_uid up instead of charging again', async () => {
      const customerUid = uid('customer');
      await issueKey(customerUid);
      const merchantUid = uid('lost');
      const before = (await stats())['POST /subscribe/payments/again'] ?? 0;
      await h.control('POST', '/faults', {
        method: 'POST',
        path: '/subscribe/payments/again',
        kind: 'timeout-after-commit',
        times: 1,
      });
      const res = await h.inject({
        method: 'POST',
        url: '/api/v1/subscriptions/pay',
        payload: { customer_uid: customerUid, merchant_uid: merchantUid, amount: 2500, name: 'lost' },
      });
      await h.control('DELETE', '/faults');
      expect(res.statusCode).toBe(201);
      expect(res.json()).toMatchObject({ merchant_uid: merchantUid, status: 'paid', amount: 2500 });
      expect((await stats())['POST /subscribe/payments/again']).toBe(before + 1);
      expect(h.logs.text()).toContain('charge outcome unknown');
    });

    it('a lost answer is not resolved by an older failed attempt with the same merchant_uid', async () => {
      const customerUid = uid('customer');
      const merchantUid = uid('retry_order');
      const payload = { customer_uid: customerUid, merchant_uid: merchantUid, amount: 4900, name: 'retry' };
      // The first attempt is declined (the card over its limit) and stored as failed.
      await issueKey(customerUid, MAGIC.DECLINED_CARD_NUMBER);
      const declined = await h.inject({ method: 'POST', url: '/api/v1/subscriptions/pay', payload });
      expect(declined.json<ProblemBody>().code).toBe('PAYMENT_DECLINED');
      // The customer registers another card; the order is charged again and that answer is lost
      // before PortOne saw the request (the connection drops).
      await issueKey(customerUid);
      await h.control('POST', '/faults', {
        method: 'POST',
        path: '/subscribe/payments/again',
        kind: 'reset',
        times: 1,
      });
      const key = uid('key');
      const lost = await h.inject({
        method: 'POST',
        url: '/api/v1/subscriptions/pay',
        headers: { 'idempotency-key': key },
        payload,
      });
      await h.control('DELETE', '/faults');
      // Before: the declined attempt was taken as this one's answer (422, the key abandoned).
      expect(lost.statusCode, lost.body).toBe(502);
      expect(lost.json<ProblemBody>().code).toBe('PORTONE_OUTCOME_UNKNOWN');
      const retry = await h.inject({
        method: 'POST',
        url: '/api/v1/subscriptions/pay',
        headers: { 'idempotency-key': key },
        payload,
      });
      expect(retry.json<ProblemBody>().code).toBe('PORTONE_OUTCOME_UNKNOWN');
    });

    it('a lost answer is not resolved by another customer’s attempt on the same order', async () => {
      const mine = uid('customer');
      const theirs = uid('customer');
      await issueKey(mine);
      await issueKey(theirs);
      const merchantUid = uid('shared_order');
      // Made at PortOne without the gateway (it never stored it): another customer, another amount, declined.
      const direct = createPortOneClient({ baseUrl: h.emulator.url, credentials: DEFAULT_MERCHANT });
      const failed = await direct.subscribe.again({
        customer_uid: theirs,
        merchant_uid: merchantUid,
        amount: MAGIC.DECLINED_AMOUNT,
        name: 'theirs',
      });
      await direct.close();
      expect(failed.status).toBe('failed');

      await h.control('POST', '/faults', {
        method: 'POST',
        path: '/subscribe/payments/again',
        kind: 'reset',
        times: 1,
      });
      const lost = await h.inject({
        method: 'POST',
        url: '/api/v1/subscriptions/pay',
        payload: { customer_uid: mine, merchant_uid: merchantUid, amount: 4900, name: 'mine' },
      });
      await h.control('DELETE', '/faults');
      expect(lost.statusCode, lost.body).toBe(502);
      expect(lost.json<ProblemBody>().code).toBe('PORTONE_OUTCOME_UNKNOWN');
    });

    it('rejects malformed bodies with 400 naming the field', async () => {
      const base = { customer_uid: 'c', merchant_uid: 'm', amount: 100, name: 'n' };
      for (const [payload, field] of [
        [{ ...base, customer_uid: undefined }, 'body.customer_uid'],
        [{ ...base, merchant_uid: undefined }, 'body.merchant_uid'],
        [{ ...base, amount: 0 }, 'body.amount'],
        [{ ...base, name: undefined }, 'body.name'],
        [{ ...base, card_quota: 1.5 }, 'body.card_quota'],
      ] as const) {
        const res = await h.inject({ method: 'POST', url: '/api/v1/subscriptions/pay', payload });
        expect(res.statusCode, JSON.stringify(payload)).toBe(400);
        expect(res.json<ProblemBody>().issues?.map((i) => i.field)).toContain(field);
      }
    });
  });

  describe('schedules', () => {
    it('schedules, lists, and revokes with a DELETE body (the seed example shape)', async () => {
      const customerUid = uid('customer');
      await issueKey(customerUid);
      const now = await emulatorNow();
      const [feb, mar] = [uid('schedule_feb'), uid('schedule_mar')];
      const created = await h.inject({
        method: 'POST',
        url: '/api/v1/subscriptions/schedule',
        payload: {
          customer_uid: customerUid,
          schedules: [
            { merchant_uid: feb, schedule_at: now + 86400, amount: 9900, name: '2월 정기결제' },
            { merchant_uid: mar, schedule_at: now + 2 * 86400, amount: 9900, name: '3월 정기결제' },
          ],
        },
      });
      expect(created.statusCode).toBe(201);
      expect(created.json<ScheduleResult[]>().map((s) => s.schedule_status)).toEqual(['scheduled', 'scheduled']);
      const rows = await h.db
        .selectFrom('payment_schedules')
        .selectAll()
        .where('customer_uid', '=', customerUid)
        .execute();
      expect(rows.map((r) => r.merchant_uid).sort()).toEqual([feb, mar].sort());

      const listed = await h.inject({ method: 'GET', url: `/api/v1/subscriptions/schedule/${customerUid}` });
      expect(listed.statusCode).toBe(200);
      expect(listed.json<{ items: ScheduleResult[]; total: number }>()).toMatchObject({ total: 2 });

      const revoked = await h.inject({
        method: 'DELETE',
        url: `/api/v1/subscriptions/schedule/${customerUid}`,
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ merchant_uid: [feb] }),
      });
      expect(revoked.statusCode).toBe(200);
      expect(revoked.json<ScheduleResult[]>()).toMatchObject([{ merchant_uid: feb, schedule_status: 'revoked' }]);

      // No body: every remaining schedule of the customer.
      const rest = await h.inject({ method: 'DELETE', url: `/api/v1/subscriptions/schedule/${customerUid}` });
      expect(rest.statusCode).toBe(200);
      expect(rest.json<ScheduleResult[]>().map((s) => s.merchant_uid)).toEqual([mar]);

      // A JSON content type with an empty body also means "no body".
      const nothing = await h.inject({
        method: 'DELETE',
        url: `/api/v1/subscriptions/schedule/${customerUid}`,
        headers: { 'content-type': 'application/json' },
      });
      expect(nothing.statusCode).toBe(422);
      expect(nothing.json<ProblemBody>().portone).toMatchObject({ operation: 'subscribe.unschedule', code: 1 });

      const stored = await h.db
        .selectFrom('payment_schedules')
        .select(['merchant_uid', 'schedule_status'])
        .where('customer_uid', '=', customerUid)
        .execute();
      expect(stored.every((s) => s.schedule_status === 'revoked')).toBe(true);
    });

    it('refuses a schedule for a customer without a billing key (PortOne code 1 → 422)', async () => {
      const res = await h.inject({
        method: 'POST',
        url: '/api/v1/subscriptions/schedule',
        payload: {
          customer_uid: uid('nobody'),
          schedules: [{ merchant_uid: uid('s'), schedule_at: 4_000_000_000, amount: 9900, name: 'x' }],
        },
      });
      expect(res.statusCode).toBe(422);
      expect(res.json<ProblemBody>().portone).toMatchObject({ operation: 'subscribe.schedule', code: 1 });
    });

    it('rejects malformed bodies with 400 naming the field', async () => {
      const item = { merchant_uid: 'm1', schedule_at: 4_000_000_000, amount: 100 };
      for (const [payload, field] of [
        [{ schedules: [item] }, 'body.customer_uid'],
        [{ customer_uid: 'c' }, 'body.schedules'],
        [{ customer_uid: 'c', schedules: [] }, 'body.schedules'],
        [{ customer_uid: 'c', schedules: [{ ...item, schedule_at: 'soon' }] }, 'body.schedules.0.schedule_at'],
        [{ customer_uid: 'c', schedules: [{ ...item, amount: -1 }] }, 'body.schedules.0.amount'],
        [{ customer_uid: 'c', schedules: [item, item] }, 'body.schedules'],
      ] as const) {
        const res = await h.inject({ method: 'POST', url: '/api/v1/subscriptions/schedule', payload });
        expect(res.statusCode, JSON.stringify(payload)).toBe(400);
        expect(res.json<ProblemBody>().issues?.map((i) => i.field)).toContain(field);
      }
      const badDelete = await h.inject({
        method: 'DELETE',
        url: '/api/v1/subscriptions/schedule/c1',
        payload: { merchant_uid: 42 },
      });
      expect(badDelete.statusCode).toBe(400);
      expect(badDelete.json<ProblemBody>().issues?.map((i) => i.field)).toContain('body.merchant_uid');
      const badWindow = await h.inject({ method: 'GET', url: '/api/v1/subscriptions/schedule/c1?from=10&to=5' });
      expect(badWindow.statusCode).toBe(400);
    });
  });
});
