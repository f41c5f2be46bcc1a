import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { DEFAULT_MERCHANT, type RunningEmulator, startEmulator } from '@repo/portone-emulator';
import {
  eventually,
  freePort,
  freshDatabase,
  mariadb,
  requestsWhileClosing,
  testLogStream,
  uid,
} from '@repo/test-support';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase } from '../../src/store/create-database.ts';
import type { Database } from '../../src/store/database.ts';
import { testLogName } from '../helpers.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../../../..');
const KEY = 'sigterm-writer-0123456789';
const SHUTDOWN_TIMEOUT_MS = 10_000; // service-kit's runServer default
const LATENCY_MS = 1500;
const server = await mariadb();

/**
 * Disruptive: the built gateway (`node dist/server.js`) as a real process, with PortOne slowed down so
 * 60 requests are in flight, gets SIGTERM. In-flight requests get their normal answers, new ones are
 * refused or 503, the process exits 0 within the shutdown timeout, and nothing is half-written.
 */
describe.runIf(server)('SIGTERM during load (built gateway, real process)', () => {
  let gateway: ChildProcess | undefined;
  let emulator: RunningEmulator;
  let database: { url: string; drop: () => Promise<void> };
  let db: Kysely<Database>;
  let port: number;
  const payments: string[] = [];
  const logLines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    await run('pnpm', ['--filter', '@repo/payment-gateway...', 'run', 'build'], { cwd: ROOT, timeout: 180_000 });
    emulator = await startEmulator({ port: 0 });
    database = await freshDatabase(server as string, 'gw_test');
    db = createDatabase({ url: database.url });
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`${emulator.url}/__emulator/checkout`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ merchant_uid: uid('sigterm'), amount: 5000 }),
      });
      const body = (await res.json()) as { response?: { imp_uid: string }; imp_uid?: string };
      payments.push((body.response?.imp_uid ?? body.imp_uid) as string);
    }
    port = await freePort();
    const logFile = testLogStream(`${testLogName()}.process`);
    gateway = spawn(process.execPath, ['services/payment-gateway/dist/server.js'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        GATEWAY_HOST: '127.0.0.1',
        GATEWAY_PORT: String(port),
        DATABASE_URL: database.url,
        MIGRATE_ON_START: 'true',
        PORTONE_API_URL: emulator.url,
        PORTONE_IMP_KEY: DEFAULT_MERCHANT.impKey,
        PORTONE_IMP_SECRET: DEFAULT_MERCHANT.impSecret,
        PORTONE_TIMEOUT_MS: '5000',
        API_KEYS: `loader:write:${KEY}`,
        WEBHOOK_SWEEP_INTERVAL_MS: '200',
        LOG_LEVEL: logFile ? 'trace' : 'debug',
      },
    });
    let buffered = '';
    gateway.stdout?.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      logFile?.write(text);
      buffered += text;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) logLines.push(JSON.parse(line) as Record<string, unknown>);
    });
    await eventually(
      async () => (await fetch(`http://127.0.0.1:${port}/ready`).catch(() => undefined))?.status === 200,
      30_000,
    );
  }, 240_000);

  afterAll(async () => {
    if (gateway && gateway.exitCode === null && gateway.signalCode === null) gateway.kill('SIGKILL');
    await db?.destroy();
    await database?.drop();
    await emulator?.close();
  });

  it('finishes in-flight requests, refuses new ones, exits 0, leaves nothing half-written', async () => {
    const proc = gateway as ChildProcess;
    const exited = new Promise<{ code: number | null; signal: string | null; at: number }>((r) =>
      proc.once('exit', (code, signal) => r({ code, signal, at: Date.now() })),
    );
    // Every PortOne call in the load takes 1.5 s: the requests are surely in flight at SIGTERM.
    for (const path of ['/payments/:imp_uid', '/payments/prepare']) {
      await fetch(`${emulator.url}/__emulator/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ path, kind: 'latency', delayMs: LATENCY_MS }),
      });
    }
    const base = `http://127.0.0.1:${port}`;
    const headers = { 'x-api-key': KEY, 'content-type': 'application/json' };
    // Arrivals are debug lines (LOG_LEVEL above), counted by their own request ids: log lines are
    // written in batches, so a count taken before sending could still be missing earlier ones.
    const arrived = () =>
      logLines.filter((l) => l.msg === 'incoming request' && String(l.reqId).startsWith('sigterm-load-')).length;
    type Result = { kind: string; status: number; body: Record<string, unknown>; merchantUid?: string };
    const load: Promise<Result>[] = [];
    const call = (kind: string, path: string, init: RequestInit, merchantUid?: string) =>
      fetch(`${base}${path}`, {
        ...init,
        headers: { ...(init.headers as Record<string, string>), 'x-request-id': `sigterm-load-${load.length}` },
      }).then(async (r) => ({
        kind,
        status: r.status,
        body: (await r.json()) as Record<string, unknown>,
        ...(merchantUid ? { merchantUid } : {}),
      }));
    for (let i = 0; i < 20; i++) {
      load.push(call('lookup', `/api/v1/payments/${payments[i % payments.length]}`, { headers }));
      const merchantUid = uid('sig_prep');
      load.push(
        call(
          'prepare',
          '/api/v1/payments/prepare',
          {
            method: 'POST',
            headers: { ...headers, 'idempotency-key': uid('sig_key') },
            body: JSON.stringify({ merchant_uid: merchantUid, amount: 1000 + i }),
          },
          merchantUid,
        ),
      );
      load.push(
        call('webhook', '/api/v1/webhooks/portone', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ imp_uid: payments[i % payments.length], status: 'paid', cancellation_id: `sig_${i}` }),
        }),
      );
    }
    await eventually(async () => arrived() === 60, 10_000);
    const signalledAt = Date.now();
    proc.kill('SIGTERM');

    // New clients once it has begun closing: refused, or answered 503 while the server drains.
    const late = await requestsWhileClosing(
      proc,
      () => logLines.some((l) => l.msg === 'shutting down'),
      port,
      '/api/v1/payments',
      { 'x-api-key': KEY },
    );
    const results = await Promise.all(load);
    const { code, signal, at } = await exited;
    console.info(
      `SIGTERM: exit ${code} after ${at - signalledAt} ms (limit ${SHUTDOWN_TIMEOUT_MS}); in flight: ` +
        `${JSON.stringify(
          Object.fromEntries(
            ['lookup', 'prepare', 'webhook'].map((k) => [
              k,
              results
                .filter((r) => r.kind === k)
                .map((r) => r.status)
                .join(',')
                .replace(/(\d+)(,\1)*/g, (m, s) => `${s}×${m.split(',').length}`),
            ]),
          ),
        )}; ` +
        `${late.length} late attempts: ${JSON.stringify([...new Set(late.map((l) => ('status' in l ? l.status : l.error)))])}`,
    );

    for (const l of logLines.filter((x) => Number(x.level) >= 50 || String(x.msg).includes('shut'))) {
      console.info('gateway log:', JSON.stringify(l).slice(0, 600));
    }
    // In flight: their normal answers.
    for (const r of results) {
      const expected = r.kind === 'prepare' ? 201 : 200;
      expect(r.status, `${r.kind}: ${JSON.stringify(r.body).slice(0, 200)}`).toBe(expected);
    }
    // New requests after closing: refused, or a 503.
    expect(late.length).toBeGreaterThan(0);
    for (const l of late) {
      if ('status' in l) expect(l.status).toBe(503);
      else expect(['ECONNREFUSED', 'ECONNRESET']).toContain(l.error);
    }
    expect(signal).toBeNull();
    expect(code).toBe(0);
    expect(at - signalledAt).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
    expect(at - signalledAt).toBeGreaterThanOrEqual(LATENCY_MS / 2); // it did wait for the slow ones

    // Nothing half-written: every 2xx prepare stored, no key left in flight, every ack'd webhook stored.
    for (const r of results.filter((x) => x.kind === 'prepare')) {
      const row = await db
        .selectFrom('prepared_payments')
        .select('merchant_uid')
        .where('merchant_uid', '=', r.merchantUid as string)
        .executeTakeFirst();
      expect(row, r.merchantUid).toBeDefined();
    }
    const keys = await db.selectFrom('idempotency_keys').select(['state', 'locked_until']).execute();
    expect(keys).toHaveLength(20);
    for (const k of keys) {
      if (k.state === 'in_flight') expect(k.locked_until).not.toBeNull();
      expect(k.state).toBe('completed');
    }
    const ids = results.filter((r) => r.kind === 'webhook').map((r) => Number(r.body.id));
    const stored = await db.selectFrom('webhook_deliveries').select('id').where('id', 'in', ids).execute();
    expect(stored).toHaveLength(20);
  }, 60_000);
});
