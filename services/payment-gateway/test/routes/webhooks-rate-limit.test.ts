import type { Payment } from '@repo/portone-client';
import { mariadb, uid } from '@repo/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, type ProblemBody, startHarness } from '../helpers.ts';

const server = await mariadb();

interface EmulatorDelivery {
  body: { imp_uid: string; status: string };
  responseStatus: number | null;
}

const LIMIT = 5;

describe.runIf(server)('POST /webhooks/portone is rate limited per client address', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness(server as string, {
      listen: true,
      // A window far longer than the test: the budget only runs out, it never refills mid-test.
      env: { WEBHOOK_RATE_LIMIT_MAX: String(LIMIT), WEBHOOK_RATE_LIMIT_WINDOW_MS: '600000' },
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  const hook = () => `${h.gatewayUrl}/api/v1/webhooks/portone`;
  const stored = async () =>
    Number(
      (
        await h.db
          .selectFrom('webhook_deliveries')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('stores what PortOne (the emulator over HTTP) sends within the limit, then answers 429 problems', async () => {
    const paid = await h.control<{ code: number; response: Payment }>('POST', '/checkout', {
      merchant_uid: uid('rl'),
      amount: 1000,
      notice_url: 'http://127.0.0.1:9/unused',
    });
    expect(paid.body.code).toBe(0);
    const send = await h.control<{ deliveries: EmulatorDelivery[] }>('POST', '/webhooks/send', {
      imp_uid: paid.body.response.imp_uid,
      url: hook(),
      times: LIMIT + 3,
    });
    expect(send.body.deliveries.map((d) => d.responseStatus)).toEqual([
      ...Array(LIMIT).fill(200),
      ...Array(3).fill(429),
    ]);
    // The refused deliveries were never stored: a flood cannot fill the table.
    expect(await stored()).toBe(LIMIT);

    const refused = await fetch(hook(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ imp_uid: paid.body.response.imp_uid, status: 'paid' }),
    });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await refused.json()).toMatchObject({
      type: 'urn:problem:rate-limited',
      title: 'Too Many Requests',
      status: 429,
      code: 'RATE_LIMITED',
      detail: expect.stringContaining('127.0.0.1'),
      instance: '/api/v1/webhooks/portone',
    } satisfies Partial<ProblemBody>);
    expect(await stored()).toBe(LIMIT);
  });

  it('counts each real client (X-Forwarded-For from a trusted proxy) on its own, and a forged header from nobody', async () => {
    // Loopback is a trusted proxy: a request from it naming a client counts against that client.
    const from = (client: string) =>
      fetch(hook(), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': client },
        body: JSON.stringify({ imp_uid: `imp_${uid('x')}`, status: 'paid' }),
      });
    for (let i = 0; i < LIMIT; i++) expect((await from('198.51.100.7')).status).toBe(200);
    const over = await from('198.51.100.7');
    expect(over.status).toBe(429);
    expect(((await over.json()) as ProblemBody).detail).toContain('198.51.100.7');
    // Another client behind the same proxy has its own budget.
    expect((await from('198.51.100.8')).status).toBe(200);

    // A client nobody trusts cannot buy a fresh budget by naming someone else in the header.
    const statuses: number[] = [];
    for (let i = 0; i <= LIMIT; i++) {
      const res = await h.inject({
        method: 'POST',
        url: '/api/v1/webhooks/portone',
        remoteAddress: '203.0.113.50',
        headers: { 'x-forwarded-for': `192.0.2.${i + 1}` },
        payload: { imp_uid: `imp_${uid('y')}`, status: 'paid' },
      });
      statuses.push(res.statusCode);
    }
    expect(statuses).toEqual([...Array(LIMIT).fill(200), 429]);
  });
});
