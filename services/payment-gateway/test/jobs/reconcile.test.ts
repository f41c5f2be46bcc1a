import type { Payment } from '@repo/portone-client';
import { eventually, mariadb, uid } from '@repo/test-support';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { buildTestApp, type Harness, startHarness } from '../helpers.ts';

const server = await mariadb();

const INTERVAL_SECONDS = 2;
const RECONCILE_ENV = { RECONCILE_INTERVAL_SECONDS: String(INTERVAL_SECONDS), RECONCILE_WINDOW_SECONDS: '3600' };

interface Run {
  id: number;
  holder: string;
  status: string;
  started_at: string;
  finished_at: string | null;
  discovered: number;
  changed: number;
}

interface RunDetail extends Run {
  changes: { imp_uid: string; from_status: string | null; to_status: string; reason: string }[];
}

/**
 * No webhook reaches the gateway here: the emulator has no webhook URL and checkouts give no
 * notice_url, as when PortOne's single delivery was lost or the gateway was down.
 */
describe.runIf(server)('reconciliation with PortOne (emulator over HTTP, real MariaDB)', () => {
  let h: Harness;
  let second: FastifyInstance;

  beforeAll(async () => {
    h = await startHarness(server as string, { env: RECONCILE_ENV });
    // A second replica on the same database.
    second = await buildTestApp(
      parseConfig({ ...RECONCILE_ENV, PORTONE_API_URL: h.emulator.url, MIGRATE_ON_START: 'false' }),
      { db: h.db },
    );
  });
  afterAll(async () => {
    await second?.close();
    await h?.close();
  });

  async function checkout(body: Record<string, unknown>): Promise<Payment> {
    const res = await h.control<{ code: number; response: Payment }>('POST', '/checkout', body);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.response;
  }

  async function storedStatus(impUid: string) {
    return (await h.db.selectFrom('payments').select('status').where('imp_uid', '=', impUid).executeTakeFirst())
      ?.status;
  }

  async function runs(): Promise<Run[]> {
    const res = await h.inject({ method: 'GET', url: '/api/v1/reconciliation/runs?limit=100' });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ items: Run[] }>().items;
  }

  async function changesOf(impUid: string) {
    const found = [];
    for (const run of await runs()) {
      const res = await h.inject({ method: 'GET', url: `/api/v1/reconciliation/runs/${run.id}` });
      expect(res.statusCode).toBe(200);
      found.push(...res.json<RunDetail>().changes.filter((c) => c.imp_uid === impUid));
    }
    return found;
  }

  it('a virtual account deposited while no webhook reaches the gateway becomes paid within one interval', async () => {
    const issued = await h.inject({
      method: 'POST',
      url: '/api/v1/payments/vbank',
      payload: { merchant_uid: uid('rv'), amount: 7_000, vbank_code: '004' },
    });
    expect(issued.statusCode, issued.body).toBe(201);
    const impUid = issued.json<Payment>().imp_uid;
    expect(await storedStatus(impUid)).toBe('ready');

    const deposit = await h.control('POST', `/vbanks/${impUid}/deposit`, {});
    expect(deposit.status).toBe(200);
    const webhooks = await h.control<unknown[]>('GET', '/webhooks');
    expect(webhooks.body).toEqual([]); // PortOne told nobody
    const depositedAt = Date.now();

    // One interval, plus the time a run takes on a loaded machine.
    await eventually(async () => (await storedStatus(impUid)) === 'paid', INTERVAL_SECONDS * 1000 + 3_000);
    expect(Date.now() - depositedAt).toBeLessThan(INTERVAL_SECONDS * 1000 + 3_000);
    await eventually(async () => (await changesOf(impUid)).length > 0, 5_000);
    const changes = await changesOf(impUid);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ from_status: 'ready', to_status: 'paid' });
    // Operators see it in /metrics too.
    await eventually(async () => {
      const text = (await h.inject({ method: 'GET', url: '/metrics' })).body;
      expect(text).toMatch(/^reconcile_runs_total\{status="succeeded"\} [1-9]/m);
      expect(text).toMatch(/^reconcile_payments_changed_total [1-9]/m);
      expect(text).toMatch(/^reconcile_portone_payments_read_total\{kind="recheck"\} [1-9]/m);
      expect(text).toMatch(/^reconcile_last_success_timestamp_seconds [1-9]/m);
    });
  });

  it('a payment made at PortOne with no webhook at all appears in the store', async () => {
    const paid = await checkout({ merchant_uid: uid('rp'), amount: 12_000 });
    expect(await storedStatus(paid.imp_uid)).toBeUndefined();
    await eventually(async () => (await storedStatus(paid.imp_uid)) === 'paid', INTERVAL_SECONDS * 1000 + 3_000);
    // The change is recorded just after the payment is stored (its own statement): wait for it too.
    await eventually(async () => (await changesOf(paid.imp_uid)).length > 0, 5_000);
    const changes = await changesOf(paid.imp_uid);
    expect(changes).toEqual([expect.objectContaining({ from_status: null, to_status: 'paid', reason: 'sweep' })]);
    const listed = await h.inject({ method: 'GET', url: '/api/v1/payments?status=paid' });
    expect(listed.json<{ items: { imp_uid: string }[] }>().items.map((p) => p.imp_uid)).toContain(paid.imp_uid);
  });

  it('two replicas on one database: runs never overlap, one per interval, each payment stored once', async () => {
    const made: Payment[] = [];
    for (let i = 0; i < 5; i++) made.push(await checkout({ merchant_uid: uid('r2'), amount: 1_000 + i }));
    await eventually(
      async () => {
        for (const p of made) if ((await storedStatus(p.imp_uid)) !== 'paid') return false;
        return true;
      },
      INTERVAL_SECONDS * 1000 + 5_000,
    );
    // Wait for one more run so both replicas had their chance at the same work.
    const seen = (await runs()).length;
    await eventually(
      async () => (await runs()).filter((r) => r.status !== 'running').length > seen,
      INTERVAL_SECONDS * 1000 + 5_000,
    );

    for (const p of made) expect(await changesOf(p.imp_uid)).toHaveLength(1);
    const finished = (await runs()).filter((r) => r.finished_at !== null).reverse(); // oldest first
    for (let i = 1; i < finished.length; i++) {
      const before = finished[i - 1] as Run;
      const after = finished[i] as Run;
      expect(Date.parse(after.started_at)).toBeGreaterThanOrEqual(Date.parse(before.finished_at as string));
      // One run per interval in total, not one per replica.
      expect(Date.parse(after.started_at) - Date.parse(before.started_at)).toBeGreaterThanOrEqual(
        INTERVAL_SECONDS * 1000 - 50,
      );
    }
  });

  it('PortOne rate-limiting the sweep: the run is recorded failed, and the next interval catches up', async () => {
    const fault = await h.control('POST', '/faults', {
      method: 'GET',
      path: '/payments/status/:payment_status',
      kind: 'status',
      status: 429,
      retryAfter: 1,
    });
    expect(fault.status).toBe(200);
    const paid = await checkout({ merchant_uid: uid('rl'), amount: 3_000 });
    try {
      const failed = await eventually(
        async () => (await runs()).find((r) => r.status === 'failed') ?? false,
        INTERVAL_SECONDS * 3000 + 5_000,
      );
      const detail = await h.inject({ method: 'GET', url: `/api/v1/reconciliation/runs/${failed.id}` });
      expect(detail.json<{ error: string | null }>().error).toBeTruthy();
      expect(await storedStatus(paid.imp_uid)).toBeUndefined();
    } finally {
      await h.control('DELETE', '/faults');
    }
    await eventually(async () => (await storedStatus(paid.imp_uid)) === 'paid', INTERVAL_SECONDS * 2000 + 5_000);
  });

  it('GET /reconciliation/runs/{id}: 404 for an unknown run, 400 for a bad id', async () => {
    const missing = await h.inject({ method: 'GET', url: '/api/v1/reconciliation/runs/999999' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json<{ code: string }>().code).toBe('RECONCILIATION_RUN_NOT_FOUND');
    const bad = await h.inject({ method: 'GET', url: '/api/v1/reconciliation/runs/abc' });
    expect(bad.statusCode).toBe(400);
  });
});
