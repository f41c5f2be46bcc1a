import type { Payment } from '@repo/portone-client';
import { eventually, mariadb, uid } from '@repo/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, type ProblemBody, startHarness } from './helpers.ts';

const server = await mariadb();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe.runIf(server)('X-Request-Id (emulator over HTTP, MariaDB)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(server as string);
  });
  afterAll(() => h?.close());

  it("the caller's id is echoed, carried by the request's log lines and recorded on the PortOne call row", async () => {
    const paid = await h.control<{ response: Payment }>('POST', '/checkout', {
      merchant_uid: uid('rid'),
      amount: 1500,
    });
    const res = await h.inject({
      method: 'GET',
      url: `/api/v1/payments/${paid.body.response.imp_uid}`,
      headers: { 'x-request-id': 'order-42.trace:7' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-request-id']).toBe('order-42.trace:7');
    const lines = h.logs.parsed().filter((l) => l.reqId === 'order-42.trace:7');
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['request completed', 'portone call']));
    const rows = await eventually(async () => {
      const found = await h.db
        .selectFrom('portone_calls')
        .select(['operation', 'request_id'])
        .where('request_id', '=', 'order-42.trace:7')
        .execute();
      return found.length > 0 && found;
    });
    expect(rows.map((r) => r.operation)).toContain('payments.get');
  });

  it('without an id, or with one that is not a plain token, the answer gets a fresh UUID', async () => {
    for (const given of [undefined, 'has space', 'x'.repeat(129), '{"json":1}', '']) {
      const res = await h.inject({
        method: 'GET',
        url: '/api/v1/payments/imp_nonexistent00',
        headers: given === undefined ? {} : { 'x-request-id': given },
      });
      expect(res.headers['x-request-id'], String(given)).toMatch(UUID);
      // Problem bodies carry the same id as the header.
      expect(res.json<ProblemBody & { requestId: string }>().requestId).toBe(res.headers['x-request-id']);
    }
  });

  it('errors raised before routing (bad percent-encoding, unknown route, bad body) carry the id too', async () => {
    for (const [method, url, payload] of [
      ['GET', '/api/v1/payments/%E0%A4%A', undefined],
      ['GET', '/no/such/route', undefined],
      ['POST', '/api/v1/payments/prepare', '{not json'],
    ] as const) {
      const res = await h.inject({
        method,
        url,
        headers: { 'x-request-id': 'pre-routing-1', 'content-type': 'application/json' },
        ...(payload ? { payload } : {}),
      });
      expect(res.statusCode, url).toBeGreaterThanOrEqual(400);
      expect(res.headers['x-request-id'], url).toBe('pre-routing-1');
      expect(res.json<{ requestId?: string }>().requestId, url).toBe('pre-routing-1');
    }
  });
});
