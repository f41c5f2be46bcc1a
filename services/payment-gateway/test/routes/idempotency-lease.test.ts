import type { Payment } from '@repo/portone-client';
import { mariadb, uid } from '@repo/test-support';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, type ProblemBody, startHarness } from '../helpers.ts';

const server = await mariadb();

/**
 * The process died while a request held an Idempotency-Key: the row stays `in_flight`. Simulated by
 * putting a finished key back in flight with its lease in the past — exactly what a crash after
 * PortOne answered (or before it was asked) leaves behind.
 */
describe.runIf(server)('Idempotency-Key leases: a retry after the holder died (emulator, MariaDB)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness(server as string);
  });
  afterAll(async () => {
    await h?.close();
  });

  const againCalls = async () =>
    (await h.control<{ byRoute: Record<string, number> }>('GET', '/stats')).body.byRoute[
      'POST /subscribe/payments/again'
    ] ?? 0;
  const paymentsAtPortOne = async (merchantUid: string) => {
    const res = await fetch(`${h.emulator.url}/payments/findAll/${merchantUid}`, {
      headers: { authorization: await token() },
    });
    if (res.status === 404) return 0;
    return ((await res.json()) as { response: { total: number } }).response.total;
  };
  const token = async () => {
    const res = await fetch(`${h.emulator.url}/users/getToken`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ imp_key: 'imp_emulator_key', imp_secret: 'imp_emulator_secret' }),
    });
    return ((await res.json()) as { response: { access_token: string } }).response.access_token;
  };
  /** What a crash leaves: the key in flight, no answer, its lease over (or still running). */
  const crashHoldingKey = async (key: string, leaseOver = true) => {
    await sql`update idempotency_keys
      set state = 'in_flight', response_status = null, response_body = null, completed_at = null,
          locked_until = ${leaseOver ? '2000-01-01 00:00:00.000' : '2999-01-01 00:00:00.000'}
      where idem_key = ${key}`.execute(h.db);
  };
  async function customer() {
    const customerUid = uid('lease_customer');
    const res = await h.inject({
      method: 'POST',
      url: '/api/v1/subscriptions/billing-key',
      payload: { customer_uid: customerUid, card_number: '4111-1111-1111-1111', expiry: '2099-12' },
    });
    expect(res.statusCode, res.body).toBe(201);
    return customerUid;
  }
  const pay = (key: string, payload: object) =>
    h.inject({ method: 'POST', url: '/api/v1/subscriptions/pay', headers: { 'idempotency-key': key }, payload });

  it('the holder charged, then died: the retry finds the charge at PortOne and never charges again', async () => {
    const payload = { customer_uid: await customer(), merchant_uid: uid('lease_paid'), amount: 1200, name: 'lease' };
    const key = uid('key');
    const first = await pay(key, payload);
    expect(first.statusCode).toBe(201);
    await crashHoldingKey(key);
    const calls = await againCalls();

    const retry = await pay(key, payload);
    expect(retry.statusCode, retry.body).toBe(201);
    expect(retry.json<Payment>().imp_uid).toBe(first.json<Payment>().imp_uid);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(await againCalls()).toBe(calls);
    expect(await paymentsAtPortOne(payload.merchant_uid)).toBe(1);
    expect(h.logs.text()).toContain('idempotency key taken over');
    // The takeover's answer is now the key's: a further retry is a plain replay.
    const replay = await pay(key, payload);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.json<Payment>().imp_uid).toBe(first.json<Payment>().imp_uid);
  });

  /** Copies the row of `from` (same request, so the same body hash) to `to`, left in flight by a crash. */
  const crashedTwin = async (from: string, to: string) => {
    await sql`insert into idempotency_keys
      (scope, idem_key, method, path, body_hash, state, created_at, expires_at, locked_until)
      select scope, ${to}, method, path, body_hash, 'in_flight', created_at, expires_at, '2000-01-01 00:00:00.000'
      from idempotency_keys where idem_key = ${from}`.execute(h.db);
  };

  it('the holder died before PortOne saw the charge: the retry looks up, finds nothing, charges once', async () => {
    const payload = { customer_uid: await customer(), merchant_uid: uid('lease_new'), amount: 1300, name: 'lease' };
    const key = uid('key');
    // A twin request with the same body whose charge PortOne never performed (503 before doing it).
    await h.control('POST', '/faults', { method: 'POST', path: '/subscribe/payments/again', kind: 'status', times: 1 });
    const lost = await pay(`${key}-twin`, payload);
    expect(lost.json<ProblemBody>().code).toBe('PORTONE_OUTCOME_UNKNOWN');
    expect(await paymentsAtPortOne(payload.merchant_uid)).toBe(0);
    await crashedTwin(`${key}-twin`, key);
    const calls = await againCalls();

    const retry = await pay(key, payload);
    expect(retry.statusCode, retry.body).toBe(201);
    expect(retry.json<Payment>()).toMatchObject({ merchant_uid: payload.merchant_uid, status: 'paid' });
    expect(await againCalls()).toBe(calls + 1);
    expect(await paymentsAtPortOne(payload.merchant_uid)).toBe(1);
  });

  it('the lookup before a taken-over charge fails: 502 outcome unknown, nothing charged', async () => {
    const payload = { customer_uid: await customer(), merchant_uid: uid('lease_dark'), amount: 1500, name: 'lease' };
    const key = uid('key');
    expect((await pay(`${key}-twin`, payload)).statusCode).toBe(201);
    await crashedTwin(`${key}-twin`, key);
    const calls = await againCalls();
    await h.control('POST', '/faults', { method: 'GET', path: '*', kind: 'status', status: 503 });
    const retry = await pay(key, payload);
    await h.control('DELETE', '/faults');
    expect(retry.statusCode).toBe(502);
    expect(retry.json<ProblemBody>().code).toBe('PORTONE_OUTCOME_UNKNOWN');
    expect(await againCalls()).toBe(calls);
    // The key keeps "outcome unknown": the next retry only looks up, and finds the twin's charge.
    const later = await pay(key, payload);
    expect(later.statusCode, later.body).toBe(201);
    expect(await againCalls()).toBe(calls);
    expect(await paymentsAtPortOne(payload.merchant_uid)).toBe(1);
  });

  it('a live lease still answers 409 IDEMPOTENCY_IN_FLIGHT and charges nothing', async () => {
    const payload = { customer_uid: await customer(), merchant_uid: uid('lease_live'), amount: 1400, name: 'lease' };
    const key = uid('key');
    expect((await pay(key, payload)).statusCode).toBe(201);
    await crashHoldingKey(key, false);
    const calls = await againCalls();
    const res = await pay(key, payload);
    expect(res.statusCode).toBe(409);
    expect(res.json<ProblemBody>().code).toBe('IDEMPOTENCY_IN_FLIGHT');
    expect(await againCalls()).toBe(calls);
  });
});
