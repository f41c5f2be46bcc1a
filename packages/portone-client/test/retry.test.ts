import { performance } from 'node:perf_hooks';
import { freePort, uid } from '@repo/test-support';
import { describe, expect, it } from 'vitest';
import {
  PortOneApiError,
  PortOneNetworkError,
  PortOneNotFoundError,
  PortOneOutcomeUnknownError,
  PortOneUnavailableError,
} from '../src/index.ts';
import { emulator, testClient, useEmulator } from './helpers.ts';

const CARD = { card_number: '4092-0200-1234-5678', expiry: '2099-12' };

const emu = useEmulator();

async function billingKey(client: ReturnType<typeof testClient>['client']) {
  const customerUid = uid('cust');
  await client.billingKeys.issue({ customer_uid: customerUid, ...CARD });
  return customerUid;
}

describe('reads are retried', () => {
  it('retries 503 until it succeeds', async () => {
    const paid = await emu.checkout({ merchant_uid: uid(), amount: 1000 });
    const { client, events } = testClient(emu.url);
    await emu.fault({ path: '/payments/:imp_uid', kind: 'status', status: 503, times: 2 });
    expect((await client.payments.get({ imp_uid: paid.imp_uid })).imp_uid).toBe(paid.imp_uid);
    const attempts = events.filter((e) => e.operation === 'payments.get');
    expect(attempts.map((e) => [e.attempt, e.status, e.outcome])).toEqual([
      [1, 503, 'error'],
      [2, 503, 'error'],
      [3, 200, 'ok'],
    ]);
    await client.close();
  });

  it('waits for Retry-After on 429', async () => {
    const { client } = testClient(emu.url);
    await emu.fault({ path: '/payments/status/:payment_status', kind: 'status', status: 429, retryAfter: 1, times: 1 });
    const started = performance.now();
    await client.payments.listByStatus({ payment_status: 'paid' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    expect((await emu.stats()).byRoute['GET /payments/status/:payment_status']).toBe(2);
    await client.close();
  });

  it('gives up at once when Retry-After is beyond the deadline', async () => {
    const { client } = testClient(emu.url, { retry: { retries: 5, minTimeoutMs: 10, maxRetryTimeMs: 2_000 } });
    await emu.fault({ path: '/payments/status/:payment_status', kind: 'status', status: 503, retryAfter: 30 });
    const started = performance.now();
    const error = await client.payments.listByStatus({ payment_status: 'paid' }).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(error).toBeInstanceOf(PortOneUnavailableError);
    expect(error).toMatchObject({ status: 503, attempts: 1, retryAfterMs: 30_000 });
    await client.close();
  });

  it('retries connection resets of reads', async () => {
    const paid = await emu.checkout({ merchant_uid: uid(), amount: 1000 });
    const { client } = testClient(emu.url);
    await emu.fault({ path: '/payments/:imp_uid', kind: 'reset', times: 2 });
    expect((await client.payments.get({ imp_uid: paid.imp_uid })).amount).toBe(1000);
    expect((await emu.stats()).byRoute['GET /payments/:imp_uid']).toBe(3);
    await client.close();
  });

  it('stops at the overall deadline', async () => {
    const { client } = testClient(emu.url, {
      retry: { retries: 1_000, minTimeoutMs: 20, maxTimeoutMs: 50, maxRetryTimeMs: 400 },
    });
    await emu.fault({ path: '/payments/status/:payment_status', kind: 'status', status: 503 });
    const started = performance.now();
    const error = await client.payments.listByStatus({ payment_status: 'paid' }).catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(PortOneUnavailableError);
    expect((error as PortOneUnavailableError).attempts).toBeGreaterThan(2);
    expect(elapsed).toBeGreaterThanOrEqual(350);
    expect(elapsed).toBeLessThan(1_500);
    await client.close();
  });

  it('aborts a call through its signal', async () => {
    const { client } = testClient(emu.url);
    await client.getToken();
    await emu.fault({ path: '/payments/status/:payment_status', kind: 'latency', delayMs: 1_500 });
    const reason = new Error('caller gave up');
    const started = performance.now();
    const error = await client.payments
      .listByStatus({ payment_status: 'paid' }, { signal: AbortSignal.any([AbortSignal.timeout(50)]) })
      .catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect((error as Error).name).toBe('TimeoutError');
    const controller = new AbortController();
    controller.abort(reason);
    await expect(client.payments.listByStatus({ payment_status: 'paid' }, { signal: controller.signal })).rejects.toBe(
      reason,
    );
    await client.close();
  });

  it('aborts a call that is waiting for its token, and the token request carries on for the others', async () => {
    const { client } = testClient(emu.url);
    await emu.fault({ path: '/users/getToken', kind: 'latency', delayMs: 1_000 });
    const reason = new Error('caller gave up');
    const controller = new AbortController();
    const started = performance.now();
    const waiting = client.payments
      .get({ imp_uid: 'imp_000000000000' }, { signal: controller.signal })
      .catch((e: unknown) => e);
    const other = client.getToken();
    setTimeout(() => controller.abort(reason), 50);
    expect(await waiting).toBe(reason);
    expect(performance.now() - started).toBeLessThan(700);
    await expect(other).resolves.toMatchObject({ access_token: expect.any(String) });
    await client.close();
  });
});

describe('charges are not replayed blindly', () => {
  it('reports a reset `again` as outcome unknown, carrying the merchant_uid', async () => {
    const { client } = testClient(emu.url);
    const customerUid = await billingKey(client);
    const merchantUid = uid();
    await emu.fault({ path: '/subscribe/payments/again', kind: 'reset', times: 1 });
    const error = await client.subscribe
      .again({ customer_uid: customerUid, merchant_uid: merchantUid, amount: 5_000, name: 'Plan' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PortOneOutcomeUnknownError);
    expect(error).toMatchObject({ outcomeKnown: false, merchantUid, merchantUids: [merchantUid], attempts: 1 });
    expect((await emu.stats()).byRoute['POST /subscribe/payments/again']).toBe(1);
    // The reset came before the emulator committed: the lookup the error asks for finds nothing.
    await expect(client.payments.find({ merchant_uid: merchantUid })).rejects.toThrow(PortOneNotFoundError);
    await client.close();
  });

  it('reports a committed `again` whose answer never came as outcome unknown', async () => {
    const { client } = testClient(emu.url, { timeouts: { headersMs: 300 } });
    const customerUid = await billingKey(client);
    const merchantUid = uid();
    await emu.fault({ path: '/subscribe/payments/again', kind: 'timeout-after-commit', times: 1 });
    const error = await client.subscribe
      .again({ customer_uid: customerUid, merchant_uid: merchantUid, amount: 5_000, name: 'Plan' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PortOneOutcomeUnknownError);
    expect((error as PortOneOutcomeUnknownError).cause).toMatchObject({ name: 'PortOneTimeoutError' });
    expect((await emu.stats()).byRoute['POST /subscribe/payments/again']).toBe(1);
    expect((await client.payments.find({ merchant_uid: merchantUid })).status).toBe('paid');
    await client.close();
  });

  it('reports a 503 on a charge as outcome unknown without retrying', async () => {
    const { client } = testClient(emu.url);
    const customerUid = await billingKey(client);
    await emu.fault({ path: '/subscribe/payments/again', kind: 'status', status: 503, times: 1 });
    const error = await client.subscribe
      .again({ customer_uid: customerUid, merchant_uid: uid(), amount: 5_000, name: 'Plan' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PortOneOutcomeUnknownError);
    expect(error).toMatchObject({ status: 503 });
    expect((await emu.stats()).byRoute['POST /subscribe/payments/again']).toBe(1);
    await client.close();
  });

  it('retries a charge whose connection was refused (provably never sent)', async () => {
    const port = await freePort(); // nothing listens there: the connection is refused before a byte is sent
    const { client, events } = testClient(`http://127.0.0.1:${port}`);
    const error = await client.subscribe
      .again({ customer_uid: 'cust', merchant_uid: uid(), amount: 5_000, name: 'Plan' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PortOneNetworkError);
    expect(error).not.toBeInstanceOf(PortOneOutcomeUnknownError);
    expect(error).toMatchObject({ outcomeKnown: true, attempts: 4 });
    // Every attempt stopped at the token request, which was refused too.
    expect(events.map((e) => [e.operation, e.attempt, e.error])).toEqual([
      ['getToken', 1, 'PortOneNetworkError'],
      ['getToken', 2, 'PortOneNetworkError'],
      ['getToken', 3, 'PortOneNetworkError'],
      ['getToken', 4, 'PortOneNetworkError'],
    ]);
    await client.close();
  });

  it('retries a charge refused at connect time once a token is cached', async () => {
    const gone = await emulator();
    const { client, events } = testClient(gone.url);
    await client.getToken();
    await gone.close();
    await new Promise((resolve) => setTimeout(resolve, 100)); // let the pool see its socket closed
    const error = await client.subscribe
      .onetime({ merchant_uid: uid(), amount: 1_000, ...CARD })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PortOneNetworkError);
    expect(error).toMatchObject({ outcomeKnown: true, attempts: 4 });
    expect(events.filter((e) => e.operation === 'subscribe.onetime').map((e) => [e.attempt, e.error])).toEqual([
      [1, 'PortOneNetworkError'],
      [2, 'PortOneNetworkError'],
      [3, 'PortOneNetworkError'],
      [4, 'PortOneNetworkError'],
    ]);
    await client.close();
  });

  it('does not retry a business failure (code != 0)', async () => {
    const { client } = testClient(emu.url);
    const error = await client.subscribe
      .again({ customer_uid: 'nobody', merchant_uid: uid(), amount: 5_000, name: 'Plan' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PortOneApiError);
    expect(error).toMatchObject({ status: 200, code: -1, attempts: 1, outcomeKnown: true });
    expect((await emu.stats()).byRoute['POST /subscribe/payments/again']).toBe(1);
    await client.close();
  });

  it('does not replay a non-charging write after an ambiguous failure', async () => {
    const { client } = testClient(emu.url);
    await client.getToken();
    await emu.fault({ path: '/payments/prepare', method: 'POST', kind: 'reset', times: 1 });
    const error = await client.prepare.create({ merchant_uid: uid(), amount: 100 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PortOneNetworkError);
    expect(error).toMatchObject({ outcomeKnown: false, attempts: 1 });
    expect((await emu.stats()).byRoute['POST /payments/prepare']).toBe(1);
    await client.close();
  });
});

describe('cancel and checksum', () => {
  it('refuses a duplicated cancel with the same checksum: the payment is cancelled once', async () => {
    const paid = await emu.checkout({ merchant_uid: uid(), amount: 10_000 });
    const { client } = testClient(emu.url);
    const request = { imp_uid: paid.imp_uid, amount: 3_000, checksum: 10_000, reason: 'refund' };
    await client.payments.cancel(request);
    const error = await client.payments.cancel(request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PortOneApiError);
    expect(error).toMatchObject({ code: 1, attempts: 1 });
    const payment = await client.payments.get({ imp_uid: paid.imp_uid });
    expect(payment.cancel_amount).toBe(3_000);
    expect(payment.cancel_history).toHaveLength(1);
    await client.close();
  });

  it('retries a cancel that carries a checksum, and the replay cannot refund twice', async () => {
    const paid = await emu.checkout({ merchant_uid: uid(), amount: 10_000 });
    const { client } = testClient(emu.url, { timeouts: { headersMs: 300 } });
    await emu.fault({ path: '/payments/cancel', kind: 'timeout-after-commit', times: 1 });
    const error = await client.payments
      .cancel({ imp_uid: paid.imp_uid, amount: 4_000, checksum: 10_000 })
      .catch((e: unknown) => e);
    // The first attempt committed; the replay is refused by the checksum instead of refunding again.
    expect(error).toBeInstanceOf(PortOneApiError);
    expect(error).toMatchObject({ code: 1, attempts: 2 });
    expect((await emu.stats()).byRoute['POST /payments/cancel']).toBe(2);
    expect((await client.payments.get({ imp_uid: paid.imp_uid })).cancel_amount).toBe(4_000);
    await client.close();
  });

  it('retries a reset cancel with a checksum to success', async () => {
    const paid = await emu.checkout({ merchant_uid: uid(), amount: 10_000 });
    const { client } = testClient(emu.url);
    await emu.fault({ path: '/payments/cancel', kind: 'reset', times: 1 });
    const cancelled = await client.payments.cancel({ imp_uid: paid.imp_uid, checksum: 10_000 });
    expect(cancelled.cancel_amount).toBe(10_000);
    expect((await emu.stats()).byRoute['POST /payments/cancel']).toBe(2);
    await client.close();
  });

  it('treats a cancel without checksum like a charge', async () => {
    const paid = await emu.checkout({ merchant_uid: uid(), amount: 10_000 });
    const { client } = testClient(emu.url);
    await emu.fault({ path: '/payments/cancel', kind: 'reset', times: 1 });
    const error = await client.payments.cancel({ imp_uid: paid.imp_uid, amount: 1_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PortOneOutcomeUnknownError);
    expect(error).toMatchObject({ impUid: paid.imp_uid, outcomeKnown: false });
    expect((await emu.stats()).byRoute['POST /payments/cancel']).toBe(1);
    await client.close();
  });
});
