import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startHarness, T0, useHarness } from './helpers.ts';

const lines: { method: string; path: string; status: number; ms: number }[] = [];
const h = useHarness({ log: (line) => lines.push(line) }, { resetEach: false });

describe('control API', () => {
  it('clock: GET and advance; negative or missing seconds are 400', async () => {
    await h.control('POST', '/reset');
    expect((await h.control('GET', '/clock')).body).toEqual({ now: T0 });
    expect(await h.advance(90)).toEqual({ now: T0 + 90, executedSchedules: 0 });
    expect((await h.control('GET', '/clock')).body).toEqual({ now: T0 + 90 });
    expect((await h.control('POST', '/clock/advance', { seconds: -1 })).status).toBe(400);
    expect((await h.control('POST', '/clock/advance', {})).body.message).toContain('seconds');
  });

  it('checkout can choose the imp_uid; a taken id is refused and a failed checkout does not leak it', async () => {
    await h.control('POST', '/reset');
    const chosen = await h.checkout({ merchant_uid: 'doc-1', imp_uid: 'imp_123456789', amount: 10000 });
    expect(chosen.imp_uid).toBe('imp_123456789');
    expect((await h.api('GET', '/payments/imp_123456789')).body.response.merchant_uid).toBe('doc-1');
    const taken = await h.control('POST', '/checkout', { merchant_uid: 'doc-2', imp_uid: 'imp_123456789', amount: 1 });
    expect(taken.body.code).not.toBe(0);
    // A vbank checkout that fails validation after the id was chosen: the next payment gets a fresh id.
    const failed = await h.control('POST', '/checkout', {
      merchant_uid: 'doc-3',
      imp_uid: 'imp_999999999',
      amount: 1,
      pay_method: 'vbank',
      vbank_due: T0 - 1,
    });
    expect(failed.body.code).not.toBe(0);
    const next = await h.checkout({ merchant_uid: 'doc-4', amount: 1 });
    expect(next.imp_uid).toMatch(/^imp_\d{12}$/);
  });

  it('reset forgets payments, tokens, stats and faults but keeps merchants and the clock start', async () => {
    const token = await h.token();
    const p = await h.checkout({ merchant_uid: 'r-1', amount: 100 });
    await h.control('POST', '/faults', { path: '/cards', kind: 'reset' });
    await h.advance(100);
    expect((await h.control('POST', '/reset')).body).toEqual({ ok: true, now: T0 });
    expect((await h.api('GET', `/payments/${p.imp_uid}`, { token })).status).toBe(401);
    expect((await h.api('GET', `/payments/${p.imp_uid}`)).status).toBe(404);
    expect((await h.control('GET', '/faults')).body).toEqual([]);
    const stats = (await h.control('GET', '/stats')).body;
    // The stale-token call, then a fresh token and the same lookup.
    expect(stats).toEqual({
      tokenRequests: { imp_emulator_key: 1 },
      requests: 3,
      byRoute: { 'POST /users/getToken': 1, 'GET /payments/:imp_uid': 2 },
    });
    expect((await h.control('GET', `/payments/${p.imp_uid}`)).status).toBe(404);
  });

  it('answers envelopes for unknown routes, wrong methods, bad JSON and bad encodings — never HTML', async () => {
    const unknown = await h.raw('GET', '/nothing/here');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ code: -1, response: null });
    const method = await h.raw('PATCH', '/subscribe/payments/unschedule');
    expect(method.status).toBe(405);
    expect(method.body).toMatchObject({ code: -1, response: null });
    expect(method.headers.get('allow')).toBe('POST');
    const del = await h.raw('DELETE', '/subscribe/payments/schedule');
    expect(del.status).toBe(405);
    expect(del.headers.get('allow')).toBe('GET, POST');
    const token = await h.token();
    const badJson = await h.raw('POST', '/payments/prepare', {
      headers: { authorization: token, 'content-type': 'application/json' },
      form: '{"merchant_uid":',
    });
    expect(badJson.status).toBe(400);
    expect(badJson.body.code).toBe(-1);
    const arrayBody = await fetch(`${h.url}/payments/prepare`, {
      method: 'POST',
      headers: { authorization: token, 'content-type': 'application/json' },
      body: '[1,2]',
    });
    expect(arrayBody.status).toBe(400);
    const badEncoding = await h.raw('GET', '/payments/%E0%A4%A', { headers: { authorization: token } });
    expect(badEncoding.status).toBeGreaterThanOrEqual(400);
    expect(badEncoding.status).toBeLessThan(500);
    const control404 = await h.raw('GET', '/__emulator/nothing');
    expect(control404.status).toBe(404);
  });

  it('calls the log hook once per request', async () => {
    lines.length = 0;
    await h.raw('GET', '/__emulator/clock');
    expect(lines).toEqual([{ method: 'GET', path: '/__emulator/clock', status: 200, ms: expect.any(Number) }]);
  });

  it('GET /__emulator describes the running emulator', async () => {
    const info = (await h.control('GET', '')).body;
    expect(info).toMatchObject({ name: 'portone-emulator', clock: 'manual', merchants: ['imp_emulator_key'] });
  });
});

describe('real clock', () => {
  it('follows real time from the given start, and runs due schedules on its own', async () => {
    const start = Math.floor(Date.now() / 1000) - 1000;
    const real = await startHarness({ clock: 'real', now: start });
    try {
      const now = (await real.control('GET', '/clock')).body.now;
      expect(now - start).toBeGreaterThanOrEqual(0);
      expect(now - start).toBeLessThanOrEqual(2);
      expect((await real.advance(100)).now - now).toBeGreaterThanOrEqual(100);
      await real.api('POST', '/subscribe/customers/rc', {
        body: { card_number: '4111111111111111', expiry: '2099-01' },
      });
      await real.api('POST', '/subscribe/payments/schedule', {
        body: { customer_uid: 'rc', schedules: [{ merchant_uid: 'rc-1', schedule_at: now + 101, amount: 100 }] },
      });
      let status = 'scheduled';
      for (let i = 0; i < 40 && status === 'scheduled'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        status = (await real.api('GET', '/subscribe/payments/schedule/rc-1')).body.response.schedule_status;
      }
      expect(status).toBe('executed');
    } finally {
      await real.close();
    }
  });
});

describe('CLI', () => {
  const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));

  it('prints its URL, serves, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [cli], {
      env: { ...process.env, PORTONE_EMULATOR_PORT: '0', PORTONE_EMULATOR_MERCHANTS: 'k1:s1,k2:s2:001=Store' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const rl = createInterface({ input: child.stdout });
      const [first] = (await once(rl, 'line')) as [string];
      const url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(first)?.[1];
      expect(url).toBeDefined();
      const info = (await (await fetch(`${url}/__emulator`)).json()) as { merchants: string[] };
      expect(info.merchants).toEqual(['k1', 'k2']);
      const token = await fetch(`${url}/users/getToken`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ imp_key: 'k2', imp_secret: 's2' }),
      });
      expect(((await token.json()) as { code: number }).code).toBe(0);
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('stops with a message naming a bad variable', async () => {
    const child = spawn(process.execPath, [cli], {
      env: { ...process.env, PORTONE_EMULATOR_PORT: 'abc' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const [code] = await once(child, 'exit');
    expect(code).toBe(1);
    expect(stderr).toContain('PORTONE_EMULATOR_PORT');
  });
});
