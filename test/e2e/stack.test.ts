/**
 * End to end through the real nginx front with the repo's configuration: payment-gateway (real
 * MariaDB, the PortOne emulator over HTTP) and docker-agent (real dockerd) behind it, every curl example
 * of both seed documents replayed as written, every endpoint-table row routed, a log stream passing
 * unbuffered, and X-Forwarded-For from a client not believed.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type RunningEmulator, startEmulator } from '@repo/portone-emulator';
import { dockerEngine, dockerSocket, freePort, freshDatabase, mariadb, realService } from '@repo/test-support';
import type { FastifyInstance } from 'fastify';
import { type Connection, createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nginxAvailable, type RunningFront, startFront } from '../../scripts/front.ts';
import { startAgent, startGateway } from './apps.ts';
import { replay, seedEndpoints, seedExamples } from './seed-curl.ts';

const exec = promisify(execFile);

/** 2024-01-01 00:00 KST: the seed documents' own time (orders of 20240101, card expiry 2025-12, 2024 schedules). */
const SEED_EPOCH = 1_704_034_800;
const STAND_IN_LABEL = 'com.portone-docker-stack.e2e-stand-in';

const server = await mariadb();
const docker = await dockerEngine();
const nginx = await realService('nginx', async () => {
  if (!nginxAvailable()) throw new Error('no nginx binary on PATH');
  return true;
});

async function dockerCli(...args: string[]): Promise<string> {
  return (
    await exec('docker', args, { env: { ...process.env, DOCKER_HOST: `unix://${dockerSocket()}` } })
  ).stdout.trim();
}

describe.runIf(server && docker && nginx)('the stack through the nginx front', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stack-e2e-'));
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let emulator: RunningEmulator;
  let gateway: FastifyInstance;
  let agent: FastifyInstance;
  let front: RunningFront;
  let db: Connection;
  const created: { images: string[]; containers: string[] } = { images: [], containers: [] };

  beforeAll(async () => {
    database = await freshDatabase(server as string, 'e2e');
    db = await createConnection(database.url);

    emulator = await startEmulator({ port: 0, clock: 'manual', now: SEED_EPOCH });
    const g = await startGateway({
      databaseUrl: database.url,
      emulator,
      logName: 'e2e-gateway',
      clock: () => new Date(SEED_EPOCH * 1000),
    });
    const a = await startAgent({ dir, logName: 'e2e-agent' });
    gateway = g.app;
    agent = a.app;
    front = await startFront({
      port: await freePort(),
      gateway: g.upstream,
      agent: a.upstream,
      dir: join(dir, 'front'),
    });
    // PortOne reaches the webhook endpoint through the reverse proxy.
    await fetch(`${emulator.url}/__emulator/webhook`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: `${front.url}/api/v1/webhooks/portone` }),
    });

    // No registry here: the seed's nginx:latest is a local stand-in unless the machine has the real one.
    const existing = await dockerCli('image', 'ls', '-q', 'nginx:latest');
    if (!existing) {
      const context = join(dir, 'nginx-stand-in');
      await exec('mkdir', ['-p', context]);
      await exec('bash', [
        '-c',
        `printf 'FROM local/busybox:1\\nLABEL ${STAND_IN_LABEL}=true\\nCMD ["sleep", "3600"]\\n' > ${context}/Dockerfile`,
      ]);
      await dockerCli('build', '-q', '-t', 'nginx:latest', context);
      created.images.push('nginx:latest');
    }
    if (await dockerCli('ps', '-aq', '--filter', 'name=^my-nginx$')) {
      throw new Error('a container named my-nginx already exists; the seed example creates it');
    }
  }, 120_000);

  afterAll(async () => {
    await front?.stop();
    await gateway?.close();
    await agent?.close();
    await emulator?.close();
    for (const name of ['my-nginx', ...created.containers]) await dockerCli('rm', '-f', name).catch(() => undefined);
    for (const image of created.images) await dockerCli('rmi', image).catch(() => undefined);
    await db?.end();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('replays every curl example of both seed documents as written', async () => {
    expect(seedExamples.length).toBe(14);
    const results: Record<string, { status: number; json: unknown; body: string }> = {};
    for (const example of seedExamples) {
      const key = `${example.method} ${example.path}`;
      results[key] = await replay(example, front.url);
      if (key === 'POST /api/v1/payments/prepare') {
        // The customer pays in the browser (PortOne's JS SDK); the emulator stands in for that step.
        const paid = await fetch(`${emulator.url}/__emulator/checkout`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ merchant_uid: 'order_20240101_001', imp_uid: 'imp_123456789', amount: 10000 }),
        });
        expect(((await paid.json()) as { code: number }).code).toBe(0);
      }
    }
    const at = (key: string) => {
      const r = results[key];
      if (!r) throw new Error(`no result for ${key}`);
      return { ...r, data: r.json as Record<string, unknown> };
    };

    // On a failure, show every answer: it is the quickest way to see what went wrong where.
    const all = JSON.stringify(results, null, 1).slice(0, 20_000);
    expect(at('GET /api/v1/containers').status, all).toBe(200);
    expect(Array.isArray(at('GET /api/v1/containers').data.containers), all).toBe(true);
    expect(at('POST /api/v1/containers').status, all).toBe(201);
    expect(at('POST /api/v1/containers/my-nginx/stop').status, all).toBe(200);
    // There is no registry to pull from here: the honest answer is a problem naming the image.
    const pull = at('POST /api/v1/images/pull');
    expect(pull.status, all).toBeGreaterThanOrEqual(400);
    expect(pull.body, all).toContain('redis');

    expect(at('POST /api/v1/payments/prepare').status, all).toBeLessThan(300);
    expect(at('POST /api/v1/payments/prepare').data, all).toMatchObject({
      merchant_uid: 'order_20240101_001',
      amount: 10000,
    });
    expect(at('GET /api/v1/payments/imp_123456789').status, all).toBe(200);
    expect(at('GET /api/v1/payments/imp_123456789').data, all).toMatchObject({
      imp_uid: 'imp_123456789',
      amount: 10000,
    });
    expect(at('GET /api/v1/payments/find/order_20240101_001').data, all).toMatchObject({ imp_uid: 'imp_123456789' });
    expect(at('POST /api/v1/payments/verify').status, all).toBe(200);
    const cancel = at('POST /api/v1/payments/cancel');
    expect(cancel.status, all).toBe(200);
    expect(JSON.stringify(cancel.json), all).toContain('5000');
    expect(at('POST /api/v1/payments/vbank').status, all).toBeLessThan(300);
    expect(JSON.stringify(at('POST /api/v1/payments/vbank').json), all).toContain('ready');
    expect(at('POST /api/v1/subscriptions/billing-key').status, all).toBeLessThan(300);
    expect(JSON.stringify(at('POST /api/v1/subscriptions/billing-key').json), all).toContain('customer_001');
    expect(at('POST /api/v1/subscriptions/pay').status, all).toBeLessThan(300);
    expect(JSON.stringify(at('POST /api/v1/subscriptions/pay').json), all).toContain('"paid"');
    expect(at('POST /api/v1/subscriptions/schedule').status, all).toBeLessThan(300);
    expect(JSON.stringify(at('POST /api/v1/subscriptions/schedule').json), all).toContain('schedule_20240301');
    const unschedule = at('DELETE /api/v1/subscriptions/schedule/customer_001');
    expect(unschedule.status, all).toBe(200);
    expect(JSON.stringify(unschedule.json), all).toContain('revoked');

    // The checkout's `paid` webhook came through nginx and was stored, from the proxy's address.
    const [rows] = await db.query(
      'SELECT source_ip, imp_uid, status FROM webhook_deliveries WHERE imp_uid = ? ORDER BY id',
      ['imp_123456789'],
    );
    expect(rows).toEqual(expect.arrayContaining([expect.objectContaining({ status: 'paid', source_ip: '127.0.0.1' })]));
  }, 120_000);

  it('routes every row of the seed endpoint tables to a service', async () => {
    expect(seedEndpoints.length).toBe(43);
    for (const row of seedEndpoints) {
      const path = `/api/v1${row.path.replace(/\{[^}]+\}/g, 'does-not-exist-42')}`;
      const res = await fetch(front.url + path, {
        method: row.method,
        headers: row.method === 'GET' || row.method === 'DELETE' ? {} : { 'content-type': 'application/json' },
        body: row.method === 'GET' || row.method === 'DELETE' ? undefined : '{}',
      });
      const body = await res.text();
      // Whatever the service thinks of the request, the route exists: neither nginx nor the service
      // answered "no such route".
      expect({ row, code: /"code":"(FRONT_404|ROUTE_NOT_FOUND)"/.exec(body)?.[1] }).toEqual({ row, code: undefined });
      expect(res.status, `${row.method} ${path}`).toBeLessThan(500);
    }
  }, 60_000);

  it("routes every path of both services' OpenAPI documents, not only the seed tables' rows", async () => {
    for (const service of ['gateway', 'agent']) {
      const docs = await fetch(`${front.url}/api/v1/docs/${service}/json`);
      expect(docs.status).toBe(200);
      const { paths } = (await docs.json()) as { paths: Record<string, Record<string, unknown>> };
      // The probes (/health, /ready, /metrics) are each service's own, not the front's.
      const api = Object.entries(paths).filter(([template]) => template.startsWith('/api/v1/'));
      expect(api.length).toBeGreaterThan(10);
      for (const [template, operations] of api) {
        // A GET reads nothing it could change; nginx routes by path alone, whatever the method.
        const path = template.replace(/\{[^}]+\}/g, 'does-not-exist-42');
        const body = await (await fetch(front.url + path)).text();
        const code = /"code":"(FRONT_404|ROUTE_NOT_FOUND)"/.exec(body)?.[1];
        // nginx passed it on; and where the path has a GET, the service that has it answered.
        const unrouted = code === 'FRONT_404' || 'get' in operations ? code : undefined;
        expect({ service, template, code: unrouted }).toEqual({ service, template, code: undefined });
      }
    }
  }, 60_000);

  it('streams container logs through nginx unbuffered, line by line as they are written', async () => {
    const create = await fetch(`${front.url}/api/v1/containers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        image: 'local/busybox:1',
        name: `e2e-ticker-${process.pid}`,
        cmd: ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done'],
      }),
    });
    expect(create.status).toBe(201);
    const id = ((await create.json()) as { id?: string; Id?: string }).id ?? '';
    created.containers.push(`e2e-ticker-${process.pid}`);
    expect((await fetch(`${front.url}/api/v1/containers/${id}/start`, { method: 'POST' })).status).toBe(200);

    const controller = new AbortController();
    const started = performance.now();
    const res = await fetch(`${front.url}/api/v1/containers/${id}/logs?follow=true`, { signal: controller.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const arrivals: number[] = [];
    while (arrivals.length < 3) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
      const ticks = text.match(/tick \d+/g)?.length ?? 0;
      while (arrivals.length < ticks) arrivals.push(performance.now() - started);
    }
    controller.abort();
    // Each line arrives as it is written (a few hundred bytes, far below any proxy buffer), not at the end.
    expect(arrivals.length).toBe(3);
    expect(arrivals[0]).toBeLessThan(3000);
    expect(arrivals[2]! - arrivals[0]!).toBeGreaterThan(150);
  }, 60_000);

  it('does not believe X-Forwarded-For from a client, and answers JSON for what it cannot route', async () => {
    const forged = await fetch(`${front.url}/api/v1/webhooks/portone`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': '52.78.100.19' },
      body: JSON.stringify({ imp_uid: 'imp_123456789', merchant_uid: 'order_20240101_001', status: 'paid' }),
    });
    expect(forged.status).toBe(200);
    const [rows] = await db.query('SELECT source_ip FROM webhook_deliveries ORDER BY id DESC LIMIT 1');
    expect(rows).toEqual([{ source_ip: '127.0.0.1' }]);

    const health = await fetch(`${front.url}/health`);
    expect(await health.json()).toEqual({ status: 'ok', service: 'front' });
    const unknown = await fetch(`${front.url}/api/v1/nothing-here`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ status: 404, code: 'FRONT_404' });
    // A URL nginx itself cannot parse never reaches a service: still a JSON problem, not nginx's HTML.
    const malformed = await fetch(`${front.url}/api/v1/payments/%`);
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('content-type')).toContain('application/problem+json');
    expect(await malformed.json()).toMatchObject({ status: 400, code: 'FRONT_400' });
    const longUri = await fetch(`${front.url}/api/v1/payments/${'x'.repeat(20_000)}`);
    expect(longUri.status).toBe(414);
    expect(await longUri.json()).toMatchObject({ status: 414, code: 'FRONT_414' });

    const down = await startFront({
      port: await freePort(),
      gateway: '127.0.0.1:1',
      agent: '127.0.0.1:1',
      dir: join(dir, 'front-down'),
    });
    try {
      const res = await fetch(`${down.url}/api/v1/payments/imp_123456789`);
      expect(res.status).toBe(502);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(await res.json()).toMatchObject({ status: 502, code: 'FRONT_502' });
    } finally {
      await down.stop();
    }
  });
});
