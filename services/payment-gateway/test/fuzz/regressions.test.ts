import { redactUrl } from '@repo/service-kit';
import { mariadb } from '@repo/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, type ProblemBody, startHarness } from '../helpers.ts';

const server = await mariadb();

/** What the fuzzer found, pinned down so it stays fixed. */
describe('request-line redaction', () => {
  it('redacts secret-looking query values, keeps the rest, survives undecodable names', () => {
    expect(redactUrl('/api/v1/payments?page=2&card_number=4111111111111111&birth=900101')).toBe(
      '/api/v1/payments?page=2&card_number=[redacted]&birth=[redacted]',
    );
    expect(redactUrl('/x?%70wd_2digit=00&imp%5Fsecret=s&limit=5&%E0=1')).toBe(
      '/x?%70wd_2digit=[redacted]&imp%5Fsecret=[redacted]&limit=5&%E0=1',
    );
    expect(redactUrl('/health')).toBe('/health');
  });
});

describe.runIf(server)('fuzz regressions (emulator, MariaDB)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(server as string);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('an idempotent DELETE whose encoded path exceeds the key table column answers 404, not 500', async () => {
    // 40 emoji: a valid 80-unit customer_uid, 480 characters percent-encoded.
    const res = await h.inject({
      method: 'DELETE',
      url: `/api/v1/subscriptions/billing-key/${encodeURIComponent('😀'.repeat(40))}`,
      headers: { 'idempotency-key': 'long-path-key' },
    });
    expect(res.statusCode, res.body).toBe(404);
    expect(res.json<ProblemBody>().code).toBe('BILLING_KEY_NOT_FOUND');
  });

  it('an undecodable URL is a 400 problem, and its query is not logged', async () => {
    const res = await h.inject({ method: 'GET', url: '/api/v1/payments/%?card_number=4111111111111111' });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json<ProblemBody>()).toMatchObject({ status: 400, code: 'BAD_URL' });
    expect(h.logs.text()).not.toContain('4111111111111111');
  });

  it('a card number in a query string never reaches the log', async () => {
    await h.inject({ method: 'GET', url: '/api/v1/payments?card_number=4111-1111-1111-1111&birth=900101' });
    expect(h.logs.text()).toContain('card_number=[redacted]');
    expect(h.logs.text()).not.toContain('4111-1111-1111-1111');
    expect(h.logs.text()).not.toContain('900101');
  });
});
