import type { Payment } from '@repo/portone-client';
import { DEFAULT_MERCHANT } from '@repo/portone-emulator';
import { mariadb, uid } from '@repo/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, type ProblemBody, startHarness } from '../helpers.ts';

const server = await mariadb();

/** Small on purpose: a read's worst case is (retries + 1) × timeout + the Retry-After/backoff waits. */
const TIMEOUT_MS = 400;
const RETRIES = 2;
/** One PortOne call's worst case: 3 attempts × 400 ms + 2 waits ≤ 1 s (Retry-After: 1 beats the backoff). */
const PORTONE_BOUND_MS = (RETRIES + 1) * TIMEOUT_MS + RETRIES * 1000;
/**
 * A read's deadline: its own PortOne call, plus slack for 2 cores shared with the rest of the suite
 * (twice the call: a cancel no longer holds the payment's row across its PortOne calls, but the
 * margin stays for a loaded machine).
 */
const READ_DEADLINE_MS = 2 * PORTONE_BOUND_MS + 1500;
/** Per kind and route; five kinds stack (a request that escapes one roll meets the next rule). */
const RATE = 0.05;
const KINDS = [
  { kind: 'status', status: 503 },
  { kind: 'status', status: 429, retryAfter: 1 },
  { kind: 'reset' },
  { kind: 'latency', delayMs: 250 },
  { kind: 'timeout-after-commit' },
] as const;
const ROUTES = [
  { method: 'GET', path: '/payments/:imp_uid' },
  { method: 'GET', path: '/payments/find/:merchant_uid' },
  { method: 'GET', path: '/payments/find/:merchant_uid/:payment_status' },
  { method: 'POST', path: '/payments/prepare' },
  { method: 'POST', path: '/payments/cancel' },
  { method: 'POST', path: '/subscribe/payments/again' },
] as const;
/** What a read may answer while PortOne misbehaves: the payment, or the documented upstream problem. */
const UPSTREAM = { 502: 'PORTONE_BAD_RESPONSE', 503: 'PORTONE_UNAVAILABLE', 504: 'PORTONE_TIMEOUT' } as const;

interface Outcome {
  kind: 'lookup' | 'find' | 'prepare' | 'pay' | 'cancel';
  status: number;
  ms: number;
  body: Record<string, unknown>;
  key?: string;
  target: string;
  /** `?status=` of a find. */
  filter?: string;
}

describe.runIf(server)('PortOne faults at a steady rate under 200 concurrent requests', () => {
  let h: Harness;
  let token: string;

  beforeAll(async () => {
    h = await startHarness(server as string, {
      env: { PORTONE_TIMEOUT_MS: String(TIMEOUT_MS), PORTONE_RETRIES: String(RETRIES) },
    });
    const res = await fetch(`${h.emulator.url}/users/getToken`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ imp_key: DEFAULT_MERCHANT.impKey, imp_secret: DEFAULT_MERCHANT.impSecret }),
    });
    token = ((await res.json()) as { response: { access_token: string } }).response.access_token;
  });
  afterAll(async () => {
    await h?.control('DELETE', '/faults');
    await h?.close();
  });

  /** PortOne's own record, straight from the emulator (never through the gateway). */
  const atPortOne = (impUid: string) => h.control<Payment>('GET', `/payments/${impUid}`).then((r) => r.body);
  const paymentsFor = async (merchantUid: string): Promise<Payment[]> => {
    const res = await fetch(`${h.emulator.url}/payments/findAll/${merchantUid}?limit=100`, {
      headers: { authorization: `Bearer ${token}` },
    });
    if (res.status === 404) return [];
    return ((await res.json()) as { response: { list: Payment[] } }).response.list;
  };

  it('reads answer in time, nothing is cancelled past its balance, nothing is charged twice', async () => {
    // Fixtures, before any fault: 8 paid payments of 10 000 and 5 billing keys.
    const shared: { impUid: string; merchantUid: string }[] = [];
    for (let i = 0; i < 8; i++) {
      const merchantUid = uid('load_paid');
      const res = await h.control<{ response?: { imp_uid: string }; imp_uid?: string }>('POST', '/checkout', {
        merchant_uid: merchantUid,
        amount: 10_000,
      });
      const impUid = res.body.response?.imp_uid ?? res.body.imp_uid;
      expect(impUid, JSON.stringify(res.body)).toBeTruthy();
      shared.push({ impUid: impUid as string, merchantUid });
    }
    const customers: string[] = [];
    for (let i = 0; i < 5; i++) {
      const customerUid = uid('load_customer');
      const res = await h.inject({
        method: 'POST',
        url: '/api/v1/subscriptions/billing-key',
        payload: { customer_uid: customerUid, card_number: '4111-1111-1111-1111', expiry: '2099-12' },
      });
      expect(res.statusCode).toBe(201);
      customers.push(customerUid);
    }

    for (const route of ROUTES) {
      for (const fault of KINDS) {
        const put = await h.control('POST', '/faults', { ...route, ...fault, rate: RATE });
        expect(put.status).toBe(200);
      }
    }

    // 200 requests at once: 60 lookups, 20 finds, 30 prepares, 50 pays (20 distinct keys, 10 keys
    // sent 3 times each), 40 partial cancels of 3 000 (5 per payment of 10 000: at most 3 fit).
    const timed = async (o: Omit<Outcome, 'status' | 'ms' | 'body'>, run: () => ReturnType<Harness['inject']>) => {
      const start = performance.now();
      const res = await run();
      const ms = performance.now() - start;
      return { ...o, status: res.statusCode, ms, body: res.json<Record<string, unknown>>() } satisfies Outcome;
    };
    const pick = <T>(list: T[], i: number) => list[i % list.length] as T;
    const payBodies = new Map<string, object>();
    const load: Promise<Outcome>[] = [];
    for (let i = 0; i < 60; i++) {
      const { impUid } = pick(shared, i);
      load.push(timed({ kind: 'lookup', target: impUid }, () => h.inject({ url: `/api/v1/payments/${impUid}` })));
    }
    for (let i = 0; i < 20; i++) {
      const { merchantUid } = pick(shared, i);
      load.push(
        timed({ kind: 'find', target: merchantUid, ...(i % 2 ? { filter: 'paid' } : {}) }, () =>
          h.inject({ url: `/api/v1/payments/find/${merchantUid}${i % 2 ? '?status=paid' : ''}` }),
        ),
      );
    }
    for (let i = 0; i < 30; i++) {
      const merchantUid = uid('load_prep');
      const key = uid('prep_key');
      load.push(
        timed({ kind: 'prepare', target: merchantUid, key }, () =>
          h.inject({
            method: 'POST',
            url: '/api/v1/payments/prepare',
            headers: { 'idempotency-key': key },
            payload: { merchant_uid: merchantUid, amount: 1000 + i },
          }),
        ),
      );
    }
    const pay = (key: string, merchantUid: string, body: object) =>
      timed({ kind: 'pay', target: merchantUid, key }, () =>
        h.inject({
          method: 'POST',
          url: '/api/v1/subscriptions/pay',
          headers: { 'idempotency-key': key },
          payload: body,
        }),
      );
    for (let i = 0; i < 30; i++) {
      const merchantUid = uid('load_pay');
      const key = uid('pay_key');
      const body = { customer_uid: pick(customers, i), merchant_uid: merchantUid, amount: 500 + i, name: 'load' };
      payBodies.set(key, body);
      const copies = i < 10 ? 3 : 1;
      for (let c = 0; c < copies; c++) load.push(pay(key, merchantUid, body));
    }
    for (let i = 0; i < 40; i++) {
      const { impUid } = pick(shared, i);
      const key = uid('cancel_key');
      load.push(
        timed({ kind: 'cancel', target: impUid, key }, () =>
          h.inject({
            method: 'POST',
            url: '/api/v1/payments/cancel',
            headers: { 'idempotency-key': key },
            payload: { imp_uid: impUid, amount: 3000, reason: 'load' },
          }),
        ),
      );
    }
    expect(load).toHaveLength(200);
    const started = performance.now();
    const outcomes = await Promise.all(load);
    const wall = performance.now() - started;

    const rules = (await h.control<{ kind: string; status?: number; applied: number }[]>('GET', '/faults')).body;
    const applied: Record<string, number> = {};
    for (const r of rules) {
      const name = r.kind === 'status' ? `status ${r.status}` : r.kind;
      applied[name] = (applied[name] ?? 0) + r.applied;
    }
    await h.control('DELETE', '/faults');
    const stats = (await h.control<{ requests: number }>('GET', '/stats')).body;

    const reads = outcomes.filter((o) => o.kind === 'lookup' || o.kind === 'find');
    const slowest = Math.max(...reads.map((o) => o.ms));
    const byKind = (kind: Outcome['kind']) => {
      const counts: Record<string, number> = {};
      for (const o of outcomes.filter((x) => x.kind === kind)) {
        const label = o.status < 300 ? String(o.status) : `${o.status} ${String(o.body.code)}`;
        counts[label] = (counts[label] ?? 0) + 1;
      }
      return counts;
    };
    console.info(
      `faults: rate ${RATE} × ${KINDS.length} kinds × ${ROUTES.length} routes; applied ${JSON.stringify(applied)}; ` +
        `${stats.requests} PortOne requests; 200 gateway requests in ${Math.round(wall)} ms; ` +
        `slowest read ${Math.round(slowest)} ms (deadline ${READ_DEADLINE_MS} ms)\n` +
        `  lookups ${JSON.stringify(byKind('lookup'))} finds ${JSON.stringify(byKind('find'))}\n` +
        `  prepares ${JSON.stringify(byKind('prepare'))} pays ${JSON.stringify(byKind('pay'))}\n` +
        `  cancels ${JSON.stringify(byKind('cancel'))}`,
    );
    // The faults really happened, of every kind.
    for (const fault of KINDS) {
      const name = fault.kind === 'status' ? `status ${fault.status}` : fault.kind;
      expect(applied[name], name).toBeGreaterThan(0);
    }

    // 1. Every read: 200 or a typed upstream problem, within its deadline.
    for (const o of reads) {
      const where = `${o.kind} ${o.target}: ${o.status} ${JSON.stringify(o.body).slice(0, 200)} in ${Math.round(o.ms)} ms`;
      expect(o.ms, where).toBeLessThanOrEqual(READ_DEADLINE_MS);
      if (o.status === 404 && o.filter === 'paid') {
        // Honest: a concurrent partial cancel made the payment `cancelled` (PortOne's status after
        // any cancel), so "the paid payment of this order" no longer exists.
        expect(o.body.code).toBe('PORTONE_NOT_FOUND');
        const impUid = shared.find((p) => p.merchantUid === o.target)?.impUid as string;
        expect((await atPortOne(impUid)).status, where).toBe('cancelled');
      } else if (o.status !== 200) {
        expect(Object.keys(UPSTREAM), where).toContain(String(o.status));
        expect(o.body.code, where).toBe(UPSTREAM[o.status as keyof typeof UPSTREAM]);
      }
    }
    // Nothing anywhere is an unhandled 500 (the error, if any, is printed from the app's log).
    for (const line of h.logs.parsed().filter((l) => l.msg === 'unhandled error')) {
      console.info('gateway error:', JSON.stringify(line).slice(0, 1500));
    }
    for (const o of outcomes) expect(o.status, `${o.kind} ${JSON.stringify(o.body).slice(0, 200)}`).not.toBe(500);

    // 2. No payment cancelled beyond its balance; our store agrees with PortOne after a final lookup.
    for (const { impUid } of shared) {
      const portone = await atPortOne(impUid);
      expect(portone.cancel_amount).toBeLessThanOrEqual(portone.amount);
      const confirmed = outcomes.filter((o) => o.kind === 'cancel' && o.target === impUid && o.status === 200);
      expect(confirmed.length * 3000).toBeLessThanOrEqual(portone.cancel_amount);
      const final = await h.inject({ url: `/api/v1/payments/${impUid}` });
      expect(final.statusCode).toBe(200);
      const row = await h.db
        .selectFrom('payments')
        .select(['cancel_amount', 'status'])
        .where('imp_uid', '=', impUid)
        .executeTakeFirstOrThrow();
      expect(Number(row.cancel_amount), impUid).toBe(portone.cancel_amount);
      expect(row.status).toBe(portone.status);
    }
    for (const o of outcomes.filter((x) => x.kind === 'cancel' && x.status === 422)) {
      expect(o.body.code).toBe('CANCEL_AMOUNT_EXCEEDS_BALANCE');
    }

    // 3. Every prepare that answered 201 is in our store.
    for (const o of outcomes.filter((x) => x.kind === 'prepare' && x.status === 201)) {
      const row = await h.db
        .selectFrom('prepared_payments')
        .select('merchant_uid')
        .where('merchant_uid', '=', o.target)
        .executeTakeFirst();
      expect(row, o.target).toBeDefined();
    }

    // 4. One charge per Idempotency-Key, and every unknown outcome resolves by lookup on retry.
    let unknown = 0;
    let resolved = 0;
    for (const [key, body] of payBodies) {
      const merchantUid = (body as { merchant_uid: string }).merchant_uid;
      const sent = outcomes.filter((o) => o.key === key);
      const charged = await paymentsFor(merchantUid);
      expect(charged.length, `${merchantUid}: ${JSON.stringify(sent.map((s) => s.status))}`).toBeLessThanOrEqual(1);
      const ok = sent.filter((o) => o.status === 201);
      for (const o of ok) expect(o.body.imp_uid).toBe(charged[0]?.imp_uid);
      if (sent.some((o) => o.body.code === 'PORTONE_OUTCOME_UNKNOWN')) unknown += 1;
      // The retry with the same key: the payment PortOne has, or (nothing there) one charge at most.
      const retry = await h.inject({
        method: 'POST',
        url: '/api/v1/subscriptions/pay',
        headers: { 'idempotency-key': key },
        payload: body,
      });
      const after = await paymentsFor(merchantUid);
      expect(after.length, merchantUid).toBeLessThanOrEqual(1);
      if (charged.length === 1) {
        expect(retry.statusCode, `${merchantUid}: ${retry.body.slice(0, 200)}`).toBe(201);
        expect(retry.json<Payment>().imp_uid).toBe(charged[0]?.imp_uid);
        if (sent.some((o) => o.body.code === 'PORTONE_OUTCOME_UNKNOWN')) resolved += 1;
      } else if (retry.statusCode === 201) {
        expect(retry.json<Payment>().imp_uid).toBe(after[0]?.imp_uid);
      } else {
        // Nothing at PortOne and the key says "outcome unknown": still only looking, never charging.
        expect(retry.json<ProblemBody>().code).toBe('PORTONE_OUTCOME_UNKNOWN');
        expect(after).toHaveLength(0);
      }
    }
    console.info(`pays: ${payBodies.size} keys, ${unknown} answered outcome-unknown, ${resolved} resolved by lookup`);
  }, 60_000);
});
