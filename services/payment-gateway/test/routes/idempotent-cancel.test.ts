import { createPortOneClient, type Payment } from '@repo/portone-client';
import { DEFAULT_MERCHANT } from '@repo/portone-emulator';
import { mariadb, uid } from '@repo/test-support';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { idempotencyHashKey, requestHash } from '../../src/idempotency/request-hash.ts';
import { type Harness, type ProblemBody, startHarness } from '../helpers.ts';

const server = await mariadb();

/**
 * A cancel refunds at most once per Idempotency-Key, also when PortOne's answer is lost after it
 * applied the cancel, and when the request holding the key died (emulator over HTTP, MariaDB).
 */
describe.runIf(server)('cancel with an Idempotency-Key never refunds twice', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness(server as string);
  });
  afterEach(async () => {
    await h?.control('DELETE', '/faults');
  });
  afterAll(async () => {
    await h?.close();
  });

  async function paid(amount: number): Promise<Payment> {
    const res = await h.control<{ code: number; response: Payment }>('POST', '/checkout', {
      merchant_uid: uid('idem_cancel'),
      amount,
    });
    expect(res.body.code).toBe(0);
    return res.body.response;
  }
  const atPortOne = async (impUid: string) => (await h.control<Payment>('GET', `/payments/${impUid}`)).body;
  const cancelCalls = async () =>
    (await h.control<{ byRoute: Record<string, number> }>('GET', '/stats')).body.byRoute['POST /payments/cancel'] ?? 0;
  const cancel = (key: string, payload: object) =>
    h.inject({ method: 'POST', url: '/api/v1/payments/cancel', headers: { 'idempotency-key': key }, payload });
  /** What a crash leaves: the key in flight with no answer and its lease over; its checkpoint stays. */
  const crashHoldingKey = async (key: string) => {
    await sql`update idempotency_keys
      set state = 'in_flight', response_status = null, response_body = null, completed_at = null,
          locked_until = '2000-01-01 00:00:00.000'
      where idem_key = ${key}`.execute(h.db);
  };
  const checkpointOf = async (key: string) =>
    (
      await h.db
        .selectFrom('idempotency_keys')
        .select('checkpoint')
        .where('idem_key', '=', key)
        .executeTakeFirstOrThrow()
    ).checkpoint;

  it('PortOne applies the cancel and the answer is lost: 200 from the balance, and a retry replays', async () => {
    const payment = await paid(10000);
    const key = uid('key');
    // The first attempt is applied, then its connection dies; the client replays it with the same
    // checksum, which PortOne refuses (the balance moved). Before: 409 and an abandoned key.
    await h.control('POST', '/faults', {
      method: 'POST',
      path: '/payments/cancel',
      kind: 'timeout-after-commit',
      delayMs: 50,
      times: 1,
    });
    const res = await cancel(key, { imp_uid: payment.imp_uid, amount: 3000 });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<Payment>()).toMatchObject({ imp_uid: payment.imp_uid, cancel_amount: 3000 });
    expect(h.logs.text()).toContain('cancel went through though its answer was lost');

    const retry = await cancel(key, { imp_uid: payment.imp_uid, amount: 3000 });
    expect(retry.statusCode).toBe(200);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect((await atPortOne(payment.imp_uid)).cancel_amount).toBe(3000);
    const stored = await h.db
      .selectFrom('payment_cancels')
      .select(['amount', 'requested_by'])
      .where('imp_uid', '=', payment.imp_uid)
      .execute();
    expect(stored.map((c) => Number(c.amount))).toEqual([3000]);
  });

  it('the answer is lost and so is the lookup: 502 kept on the key; the retry finds the cancel, sends nothing', async () => {
    const payment = await paid(9000);
    const key = uid('key');
    await h.control('POST', '/faults', {
      method: 'POST',
      path: '/payments/cancel',
      kind: 'timeout-after-commit',
      delayMs: 1000,
      times: 1,
    });
    const pending = cancel(key, { imp_uid: payment.imp_uid, amount: 2000 });
    // While the first attempt hangs (PortOne already applied it; 1 s is margin for a loaded CI machine),
    // PortOne's lookups start failing.
    const started = Date.now();
    while ((await atPortOne(payment.imp_uid)).cancel_amount === 0 && Date.now() - started < 5000) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await h.control('POST', '/faults', { method: 'GET', path: '/payments/:imp_uid', kind: 'status', status: 400 });
    const res = await pending;
    expect(res.statusCode, res.body).toBe(502);
    expect(res.json<ProblemBody>()).toMatchObject({ code: 'PORTONE_OUTCOME_UNKNOWN', amount: 2000 });
    expect(JSON.parse(String(await checkpointOf(key)))).toEqual({
      imp_uid: payment.imp_uid,
      checksum: 9000,
      amount: 2000,
    });
    await h.control('DELETE', '/faults');
    const calls = await cancelCalls();

    const retry = await cancel(key, { imp_uid: payment.imp_uid, amount: 2000 });
    expect(retry.statusCode, retry.body).toBe(200);
    expect(retry.json<Payment>().cancel_amount).toBe(2000);
    expect(await cancelCalls()).toBe(calls);
    expect((await atPortOne(payment.imp_uid)).cancel_amount).toBe(2000);
  });

  it('the holder cancelled, then died before answering: the retry answers from PortOne and refunds nothing', async () => {
    const payment = await paid(8000);
    const key = uid('key');
    expect((await cancel(key, { imp_uid: payment.imp_uid, amount: 1000 })).statusCode).toBe(200);
    await crashHoldingKey(key);
    const calls = await cancelCalls();

    const retry = await cancel(key, { imp_uid: payment.imp_uid, amount: 1000 });
    expect(retry.statusCode, retry.body).toBe(200);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(retry.json<Payment>().cancel_amount).toBe(1000);
    expect(await cancelCalls()).toBe(calls);
    expect((await atPortOne(payment.imp_uid)).cancel_amount).toBe(1000);
    expect(h.logs.text()).toContain('cancel of an earlier attempt with this key found at PortOne');
  });

  it('the holder recorded its checkpoint and died before PortOne saw the cancel: the retry cancels once', async () => {
    const payment = await paid(7000);
    const key = uid('key');
    await h.db
      .insertInto('idempotency_keys')
      .values({
        scope: 'local',
        idem_key: key,
        method: 'POST',
        path: '/api/v1/payments/cancel',
        body_hash: requestHash(idempotencyHashKey(h.app.config), 'POST', '/api/v1/payments/cancel', {
          imp_uid: payment.imp_uid,
          amount: 2500,
        }),
        state: 'in_flight',
        response_status: null,
        response_body: null,
        created_at: '2000-01-01 00:00:00.000',
        completed_at: null,
        expires_at: '2999-01-01 00:00:00.000',
        locked_until: '2000-01-01 00:00:00.000',
        checkpoint: JSON.stringify({ imp_uid: payment.imp_uid, checksum: 7000, amount: 2500 }),
      })
      .execute();
    const calls = await cancelCalls();

    const retry = await cancel(key, { imp_uid: payment.imp_uid, amount: 2500 });
    expect(retry.statusCode, retry.body).toBe(200);
    expect(retry.json<Payment>().cancel_amount).toBe(2500);
    expect(await cancelCalls()).toBe(calls + 1);
    expect((await atPortOne(payment.imp_uid)).cancel_amount).toBe(2500);
  });

  it('the balance moved some other way since the first attempt: 409 kept on the key, nothing sent', async () => {
    const payment = await paid(6000);
    const key = uid('key');
    expect((await cancel(key, { imp_uid: payment.imp_uid, amount: 1000 })).statusCode).toBe(200);
    await crashHoldingKey(key);
    // Someone refunds 500 in PortOne's console: the balance is neither what the first attempt saw
    // nor what it would have left.
    const direct = createPortOneClient({ baseUrl: h.emulator.url, credentials: DEFAULT_MERCHANT });
    await direct.payments.cancel({ imp_uid: payment.imp_uid, amount: 500, checksum: 5000 });
    await direct.close();
    const calls = await cancelCalls();

    const retry = await cancel(key, { imp_uid: payment.imp_uid, amount: 1000 });
    expect(retry.statusCode, retry.body).toBe(409);
    expect(retry.json<ProblemBody>()).toMatchObject({
      code: 'IDEMPOTENT_CANCEL_CONFLICT',
      balance_then: 6000,
      balance_now: 4500,
    });
    const again = await cancel(key, { imp_uid: payment.imp_uid, amount: 1000 });
    expect(again.statusCode).toBe(409);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(await cancelCalls()).toBe(calls);
    expect((await atPortOne(payment.imp_uid)).cancel_amount).toBe(1500);
  });
});
