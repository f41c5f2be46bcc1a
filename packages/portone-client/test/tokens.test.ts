import { uid } from '@repo/test-support';
import { describe, expect, it } from 'vitest';
import { PortOneAuthError, PortOneNotFoundError } from '../src/index.ts';
import {
  AGENCY_MERCHANT,
  DEFAULT_MERCHANT,
  EMULATOR_EPOCH,
  OTHER_MERCHANT,
  testClient,
  useEmulator,
} from './helpers.ts';

const emu = useEmulator();

describe('token cache', () => {
  it('shares one token request between 200 concurrent calls on a cold cache', async () => {
    const paid = await emu.checkout({ merchant_uid: uid(), amount: 1000 });
    // Timeouts generous enough that a loaded machine causes no retries: every request counts below.
    const { client } = testClient(emu.url, { timeouts: { connectMs: 20_000, headersMs: 20_000, bodyMs: 20_000 } });
    const results = await Promise.all(
      Array.from({ length: 200 }, () => client.payments.get({ imp_uid: paid.imp_uid })),
    );
    expect(results.every((p) => p.imp_uid === paid.imp_uid)).toBe(true);
    const stats = await emu.stats();
    expect(stats.tokenRequests).toEqual({ [DEFAULT_MERCHANT.impKey]: 1 });
    expect(stats.byRoute['GET /payments/:imp_uid']).toBe(200);
    await client.close();
  });

  it('refreshes before expiry (within the margin PortOne extends the same token)', async () => {
    const { client, clock } = testClient(emu.url);
    const first = await client.getToken();
    // 50 s before expiry: inside the default 60 s margin.
    await emu.advance(1750);
    clock.now += 1750_000;
    const refreshed = await client.getToken();
    expect(refreshed.access_token).toBe(first.access_token);
    expect(refreshed.expired_at).toBe(first.expired_at + 300);
    expect((await emu.stats()).tokenRequests[DEFAULT_MERCHANT.impKey]).toBe(2);
    await client.close();
  });

  it('replaces a token that expired mid-run without a 401', async () => {
    const { client, clock, events } = testClient(emu.url);
    await client.prepare.create({ merchant_uid: uid(), amount: 100 });
    const first = await client.getToken();
    await emu.advance(1801);
    clock.now += 1801_000;
    await client.prepare.create({ merchant_uid: uid(), amount: 100 });
    const second = await client.getToken();
    expect(second.access_token).not.toBe(first.access_token);
    expect(events.filter((e) => e.status === 401)).toEqual([]);
    expect((await emu.stats()).tokenRequests[DEFAULT_MERCHANT.impKey]).toBe(2);
    await client.close();
  });

  it('computes expiry from PortOne clock, not the (skewed) local one', async () => {
    const { client, clock } = testClient(emu.url);
    clock.now = (EMULATOR_EPOCH + 7200) * 1000; // local clock two hours ahead of PortOne
    await client.getToken();
    clock.now += 20 * 60_000;
    await client.getToken();
    expect((await emu.stats()).tokenRequests[DEFAULT_MERCHANT.impKey]).toBe(1);
    clock.now += 10 * 60_000;
    await emu.advance(30 * 60);
    await client.getToken();
    expect((await emu.stats()).tokenRequests[DEFAULT_MERCHANT.impKey]).toBe(2);
    await client.close();
  });

  it('keeps separate tokens for two merchants and per-call credentials', async () => {
    const mine = await emu.checkout({ merchant_uid: uid(), amount: 1000 });
    const theirs = await emu.checkout({ merchant_uid: uid(), amount: 2000, imp_key: OTHER_MERCHANT.impKey });
    const { client } = testClient(emu.url);
    const other = { credentials: OTHER_MERCHANT };

    const [a, b] = await Promise.all([client.getToken(), client.getToken(other)]);
    expect(a.access_token).not.toBe(b.access_token);
    expect((await client.payments.get({ imp_uid: mine.imp_uid })).amount).toBe(1000);
    expect((await client.payments.get({ imp_uid: theirs.imp_uid }, other)).amount).toBe(2000);
    await expect(client.payments.get({ imp_uid: theirs.imp_uid })).rejects.toThrow(PortOneNotFoundError);

    expect((await emu.stats()).tokenRequests).toEqual({ [DEFAULT_MERCHANT.impKey]: 1, [OTHER_MERCHANT.impKey]: 1 });
    await client.close();
  });

  it('sends the Tier header of the credentials', async () => {
    const sub = await emu.checkout({ merchant_uid: uid(), amount: 700, imp_key: AGENCY_MERCHANT.impKey, tier: '001' });
    const { client } = testClient(emu.url, { credentials: { ...AGENCY_MERCHANT, tier: '001' } });
    expect((await client.payments.get({ imp_uid: sub.imp_uid })).amount).toBe(700);
    await expect(
      client.payments.get({ imp_uid: sub.imp_uid }, { credentials: { ...AGENCY_MERCHANT } }),
    ).rejects.toThrow(PortOneNotFoundError);
    expect((await emu.stats()).tokenRequests[AGENCY_MERCHANT.impKey]).toBe(1);
    await client.close();
  });

  it('fails with PortOneAuthError on a wrong secret, without retrying', async () => {
    const { client } = testClient(emu.url, { credentials: { impKey: DEFAULT_MERCHANT.impKey, impSecret: 'wrong' } });
    const error = await client.payments.get({ imp_uid: 'imp_000000000000' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PortOneAuthError);
    expect(error).toMatchObject({ status: 401, operation: 'payments.get', outcomeKnown: true });
    const stats = await emu.stats();
    expect(stats.tokenRequests[DEFAULT_MERCHANT.impKey]).toBe(1);
    expect(stats.byRoute['GET /payments/:imp_uid']).toBeUndefined();
    await client.close();
  });
});

describe('401 handling', () => {
  it('refreshes once and replays once when PortOne no longer knows the token', async () => {
    const { client, events } = testClient(emu.url);
    await client.getToken();
    await emu.reset(); // forgets every token (and payment); the client still holds its old token
    const page = await client.payments.listByStatus({ payment_status: 'all' });
    expect(page.total).toBe(0);

    const stats = await emu.stats();
    expect(stats.tokenRequests[DEFAULT_MERCHANT.impKey]).toBe(1);
    expect(stats.byRoute['GET /payments/status/:payment_status']).toBe(2);
    const calls = events.filter((e) => e.operation === 'payments.listByStatus');
    expect(calls.map((e) => [e.status, e.attempt, e.error])).toEqual([
      [401, 1, 'PortOneAuthError'],
      [200, 1, undefined],
    ]);
    await client.close();
  });

  it('shares one refresh between concurrent calls that all got 401', async () => {
    const { client } = testClient(emu.url);
    await client.getToken();
    await emu.advance(1801); // expired at PortOne, still fresh by the client's clock
    await Promise.all(Array.from({ length: 50 }, () => client.payments.listByStatus({ payment_status: 'paid' })));
    const stats = await emu.stats();
    expect(stats.tokenRequests[DEFAULT_MERCHANT.impKey]).toBe(2);
    expect(stats.byRoute['GET /payments/status/:payment_status']).toBe(100);
    await client.close();
  });

  it('does not loop: a second 401 is a PortOneAuthError', async () => {
    const { client } = testClient(emu.url);
    await emu.fault({ path: '/payments/status/:payment_status', kind: 'status', status: 401, times: 5 });
    const error = await client.payments.listByStatus({ payment_status: 'paid' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PortOneAuthError);
    expect(error).toMatchObject({ status: 401, attempts: 1 });
    const stats = await emu.stats();
    expect(stats.tokenRequests[DEFAULT_MERCHANT.impKey]).toBe(2);
    expect(stats.byRoute['GET /payments/status/:payment_status']).toBe(2);
    await client.close();
  });
});
