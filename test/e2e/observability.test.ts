/**
 * Request ids and metrics through the real nginx front: the caller's X-Request-Id reaches the
 * gateway, its answer (once), its PortOne audit rows; an unusable one is replaced by nginx's own;
 * /metrics answers on the service port and is a 404 on the public front.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningEmulator, startEmulator } from '@repo/portone-emulator';
import { freePort, freshDatabase, mariadb, realService } from '@repo/test-support';
import type { FastifyInstance } from 'fastify';
import { createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nginxAvailable, type RunningFront, startFront } from '../../scripts/front.ts';
import { startGateway } from './apps.ts';

const mysql = await mariadb();
const nginx = await realService('nginx', async () => {
  if (!nginxAvailable()) throw new Error('no nginx binary on PATH');
  return true;
});

describe.runIf(mysql && nginx)('request ids and metrics through the nginx front', () => {
  const dir = mkdtempSync(join(tmpdir(), 'front-obs-'));
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let emulator: RunningEmulator;
  let gateway: FastifyInstance;
  let gatewayUrl: string;
  let front: RunningFront;

  beforeAll(async () => {
    database = await freshDatabase(mysql as string, 'e2e_obs');
    emulator = await startEmulator({ port: 0, clock: 'manual' });
    const g = await startGateway({ databaseUrl: database.url, emulator, logName: 'front-obs-gateway' });
    gateway = g.app;
    gatewayUrl = g.url;
    // No agent here: its upstream is a closed port (its /metrics is covered by the agent's own tests).
    front = await startFront({
      port: await freePort(),
      gateway: g.upstream,
      agent: `127.0.0.1:${await freePort()}`,
      dir: join(dir, 'front'),
    });
    await fetch(`${emulator.url}/__emulator/webhook`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: `${front.url}/api/v1/webhooks/portone`, format: 'form' }),
    });
  }, 60_000);

  afterAll(async () => {
    await front?.stop();
    await gateway?.close();
    await emulator?.close();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const checkout = async (merchantUid: string) => {
    const res = await fetch(`${emulator.url}/__emulator/checkout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ merchant_uid: merchantUid, amount: 2500 }),
    });
    return ((await res.json()) as { response: { imp_uid: string } }).response.imp_uid;
  };

  it("the caller's X-Request-Id goes through nginx to the gateway, its answer (once) and its audit rows", async () => {
    // Not stored yet (no webhook for it), so the gateway asks PortOne.
    const res = await fetch(`${front.url}/api/v1/payments/imp_obsunknown01`, {
      headers: { 'x-request-id': 'obs-trace-1' },
    });
    expect(res.status).toBe(404);
    // fetch joins repeated headers with ", ": equality means exactly one.
    expect(res.headers.get('x-request-id')).toBe('obs-trace-1');
    const admin = await createConnection(database.url);
    try {
      let rows: unknown[] = [];
      for (let i = 0; i < 50 && !JSON.stringify(rows).includes('payments.get'); i++) {
        [rows] = (await admin.query('SELECT operation FROM portone_calls WHERE request_id = ?', ['obs-trace-1'])) as [
          unknown[],
          unknown,
        ];
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(rows).toContainEqual({ operation: 'payments.get' });
    } finally {
      await admin.end();
    }
  });

  it('an unusable or missing id is replaced by one id that the answer and its problem body share', async () => {
    for (const given of [undefined, 'two words', 'x'.repeat(200)]) {
      const headers: Record<string, string> = given === undefined ? {} : { 'x-request-id': given };
      for (const path of ['/api/v1/payments/imp_nothere000', '/nowhere']) {
        const res = await fetch(`${front.url}${path}`, { headers });
        expect(res.status, path).toBe(404);
        const id = res.headers.get('x-request-id');
        expect(id, path).toMatch(/^[0-9a-f]{32}$/); // nginx's $request_id
        expect(((await res.json()) as { requestId: string }).requestId, path).toBe(id);
      }
    }
  });

  it('/metrics is on the service port only; the front answers 404', async () => {
    const viaFront = await fetch(`${front.url}/metrics`);
    expect(viaFront.status).toBe(404);
    expect(((await viaFront.json()) as { code: string }).code).toBe('FRONT_404');

    // A webhook through the front, so every family has a sample.
    const impUid = await checkout('obs-order-2');
    await fetch(`${front.url}/api/v1/payments/${impUid}`);
    const text = await (await fetch(`${gatewayUrl}/metrics`)).text();
    expect(text).toMatch(
      /^http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/payments\/:imp_uid",status_code="200"\} [1-9]/m,
    );
    expect(text).toMatch(/^portone_calls_total\{operation="payments.get",outcome="ok"\} [1-9]/m);
    expect(text).toMatch(/^portone_token_refreshes_total\{outcome="ok"\} [1-9]/m);
    expect(text).toMatch(/^webhook_deliveries_total\{state="processed"\} [1-9]/m);
    expect(text).toContain('# TYPE portone_call_retries_total counter');
    expect(text).toMatch(/^process_cpu_seconds_total /m);
  });
});
