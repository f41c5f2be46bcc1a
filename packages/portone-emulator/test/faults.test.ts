import { describe, expect, it } from 'vitest';
import { useHarness } from './helpers.ts';

const h = useHarness();

const addFault = async (fault: Record<string, unknown>) => {
  const res = await h.control('POST', '/faults', fault);
  expect(res.status).toBe(200);
  expect(res.body.id).toEqual(expect.any(String));
  return res.body.id as string;
};

describe('faults', () => {
  it('status: answers the status with an envelope and Retry-After, without doing the operation, for `times` requests', async () => {
    const p = await h.checkout({ merchant_uid: 'f-1', amount: 1000 });
    const token = await h.token();
    await addFault({ method: 'POST', path: '/payments/cancel', kind: 'status', status: 429, retryAfter: 3, times: 1 });
    const limited = await h.api('POST', '/payments/cancel', { token, body: { imp_uid: p.imp_uid } });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('3');
    expect(limited.body).toMatchObject({ code: -1, response: null });
    expect((await h.api('GET', `/payments/${p.imp_uid}`, { token })).body.response.cancel_amount).toBe(0);
    const next = await h.api('POST', '/payments/cancel', { token, body: { imp_uid: p.imp_uid } });
    expect(next.status).toBe(200);
    expect(next.body.response.cancel_amount).toBe(1000);
  });

  it('status on getToken still counts the token request; `*` matches every V1 route but not the control API', async () => {
    await addFault({ path: '*', kind: 'status', status: 503 });
    const res = await h.raw('POST', '/users/getToken', {
      body: { imp_key: 'imp_emulator_key', imp_secret: 'imp_emulator_secret' },
    });
    expect(res.status).toBe(503);
    expect((await h.raw('GET', '/payments/imp_000000000000')).status).toBe(503);
    const stats = await h.control('GET', '/stats');
    expect(stats.status).toBe(200);
    expect(stats.body.tokenRequests).toEqual({ imp_emulator_key: 1 });
    expect(stats.body.byRoute).toEqual({ 'POST /users/getToken': 1, 'GET /payments/:imp_uid': 1 });
    expect((await h.control('DELETE', '/faults')).body).toEqual({ cleared: 1 });
    expect((await h.raw('GET', '/payments/imp_000000000000')).status).toBe(401);
  });

  it('latency: waits delayMs, then answers normally', async () => {
    const token = await h.token();
    await addFault({ path: '/payments/:imp_uid', kind: 'latency', delayMs: 250 });
    const started = performance.now();
    const res = await h.api('GET', '/payments/imp_000000000000', { token });
    expect(performance.now() - started).toBeGreaterThanOrEqual(240);
    expect(res.status).toBe(404);
  });

  it('reset: destroys the connection before the operation', async () => {
    const p = await h.checkout({ merchant_uid: 'f-r', amount: 1000 });
    const token = await h.token();
    await addFault({ path: '/payments/cancel', kind: 'reset', times: 1 });
    await expect(h.api('POST', '/payments/cancel', { token, body: { imp_uid: p.imp_uid } })).rejects.toThrow();
    expect((await h.api('GET', `/payments/${p.imp_uid}`, { token })).body.response.cancel_amount).toBe(0);
  });

  it('timeout-after-commit: the operation happens, the client never gets an answer', async () => {
    const p = await h.checkout({ merchant_uid: 'f-t', amount: 1000 });
    const token = await h.token();
    await addFault({ path: '/payments/cancel', kind: 'timeout-after-commit', times: 1 });
    const call = fetch(`${h.url}/payments/cancel`, {
      method: 'POST',
      headers: { authorization: token, 'content-type': 'application/json' },
      body: JSON.stringify({ imp_uid: p.imp_uid, amount: 400, checksum: 1000 }),
      signal: AbortSignal.timeout(300),
    });
    await expect(call).rejects.toThrow(/abort|timeout/i);
    const after = (await h.api('GET', `/payments/${p.imp_uid}`, { token })).body.response;
    expect(after.cancel_amount).toBe(400);
    // The client's safe retry (same checksum) is refused: the balance moved.
    const retry = await h.api('POST', '/payments/cancel', {
      token,
      body: { imp_uid: p.imp_uid, amount: 400, checksum: 1000 },
    });
    expect(retry.body.code).toBe(1);
  });

  it('timeout-after-commit with delayMs: drops the connection after the delay', async () => {
    const token = await h.token();
    await addFault({ path: '/payments/prepare', kind: 'timeout-after-commit', delayMs: 50, times: 1 });
    await expect(
      h.api('POST', '/payments/prepare', { token, body: { merchant_uid: 'f-p', amount: 10 } }),
    ).rejects.toThrow();
    expect((await h.api('GET', '/payments/prepare/f-p', { token })).body.response.amount).toBe(10);
  });

  it('method filter, rate 0 and times', async () => {
    const token = await h.token();
    await addFault({ method: 'GET', path: '/payments/prepare/:merchant_uid', kind: 'status', status: 500, times: 2 });
    await addFault({ path: '/payments/prepare', kind: 'status', status: 502, rate: 0 });
    expect((await h.api('POST', '/payments/prepare', { token, body: { merchant_uid: 'm', amount: 1 } })).status).toBe(
      200,
    );
    expect((await h.api('GET', '/payments/prepare/m', { token })).status).toBe(500);
    expect((await h.api('GET', '/payments/prepare/m', { token })).status).toBe(500);
    expect((await h.api('GET', '/payments/prepare/m', { token })).status).toBe(200);
    const listed = (await h.control('GET', '/faults')).body;
    expect(listed.map((f: { applied: number }) => f.applied)).toEqual([2, 0]);
  });

  it('rejects malformed fault definitions', async () => {
    expect((await h.control('POST', '/faults', { path: '*', kind: 'explode' })).status).toBe(400);
    expect((await h.control('POST', '/faults', { kind: 'reset' })).status).toBe(400);
  });
});
