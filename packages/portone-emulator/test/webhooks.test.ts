import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startReceiver, useHarness, useReceiver } from './helpers.ts';

let statuses: number[] = [];
const receiver = useReceiver(() => statuses.shift() ?? 200);
const h = useHarness();
beforeEach(async () => {
  statuses = [];
  await h.control('PUT', '/webhook', { url: receiver.url, format: 'json', retries: 0 });
});
afterEach(() => h.control('PUT', '/webhook', { url: null }));

describe('webhooks', () => {
  it('PUT /webhook sets the target; GET /webhooks logs every delivery', async () => {
    const p = await h.checkout({ merchant_uid: 'w-1', amount: 100 });
    const log = (await h.control('GET', '/webhooks')).body;
    expect(log).toEqual([
      {
        id: expect.any(Number),
        url: receiver.url,
        body: { imp_uid: p.imp_uid, merchant_uid: 'w-1', status: 'paid' },
        format: 'json',
        attempt: 1,
        responseStatus: 200,
        error: null,
        at: expect.any(Number),
      },
    ]);
    expect(receiver.received[0]?.headers['content-type']).toBe('application/json');
  });

  it('a checkout notice_url overrides the configured URL', async () => {
    const other = await startReceiver();
    try {
      await h.checkout({ merchant_uid: 'w-n', amount: 100, notice_url: other.url });
      expect(other.received).toHaveLength(1);
      expect(receiver.received).toHaveLength(0);
    } finally {
      await other.close();
    }
  });

  it('send forges any status, duplicates with times, and uses form encoding when configured', async () => {
    await h.control('PUT', '/webhook', { url: receiver.url, format: 'form' });
    const p = await h.checkout({ merchant_uid: 'w-2', amount: 100 });
    receiver.received.length = 0;
    const res = await h.control('POST', '/webhooks/send', { imp_uid: p.imp_uid, status: 'cancelled', times: 2 });
    expect(res.body.deliveries).toHaveLength(2);
    expect(receiver.received.map((r) => r.raw)).toEqual([
      `imp_uid=${p.imp_uid}&merchant_uid=w-2&status=cancelled`,
      `imp_uid=${p.imp_uid}&merchant_uid=w-2&status=cancelled`,
    ]);
    // The stored payment is untouched by a forged webhook.
    expect((await h.api('GET', `/payments/${p.imp_uid}`)).body.response.status).toBe('paid');
    expect((await h.control('POST', '/webhooks/send', { imp_uid: 'imp_000000000000' })).status).toBe(404);
  });

  it('send-batch delivers in the requested order', async () => {
    const a = await h.checkout({ merchant_uid: 'w-a', amount: 100, pay_method: 'vbank' });
    await h.control('POST', `/vbanks/${a.imp_uid}/deposit`, {});
    receiver.received.length = 0;
    const res = await h.control('POST', '/webhooks/send-batch', {
      events: [
        { imp_uid: a.imp_uid, status: 'ready' },
        { imp_uid: a.imp_uid, status: 'paid' },
      ],
      order: 'reverse',
    });
    expect(res.status).toBe(200);
    expect(receiver.received.map((r) => r.body.status)).toEqual(['paid', 'ready']);
  });

  it('retries on 5xx when enabled, and only once by default', async () => {
    statuses = [500];
    const p = await h.checkout({ merchant_uid: 'w-r1', amount: 100 });
    const single = (await h.control('GET', '/webhooks')).body.filter(
      (d: { body: { imp_uid: string } }) => d.body.imp_uid === p.imp_uid,
    );
    expect(single.map((d: { responseStatus: number }) => d.responseStatus)).toEqual([500]);

    await h.control('PUT', '/webhook', { url: receiver.url, retries: 3, retryDelayMs: 10 });
    statuses = [503, 502];
    const q = await h.checkout({ merchant_uid: 'w-r2', amount: 100 });
    const attempts = (await h.control('GET', '/webhooks')).body.filter(
      (d: { body: { imp_uid: string } }) => d.body.imp_uid === q.imp_uid,
    );
    expect(attempts.map((d: { attempt: number; responseStatus: number }) => [d.attempt, d.responseStatus])).toEqual([
      [1, 503],
      [2, 502],
      [3, 200],
    ]);
    statuses = [404];
    await h.control('POST', '/webhooks/send', { imp_uid: q.imp_uid });
    const after404 = (await h.control('GET', '/webhooks')).body.at(-1);
    expect(after404).toMatchObject({ attempt: 1, responseStatus: 404 });
  });

  it('logs network errors (and retries them when enabled)', async () => {
    const dead = await startReceiver();
    await dead.close();
    await h.control('PUT', '/webhook', { url: dead.url, retries: 1, retryDelayMs: 10 });
    await h.checkout({ merchant_uid: 'w-dead', amount: 100 });
    const log = (await h.control('GET', '/webhooks')).body;
    expect(log).toHaveLength(2);
    expect(
      log.every((d: { responseStatus: number | null; error: string | null }) => d.responseStatus === null && d.error),
    ).toBe(true);
  });
});
