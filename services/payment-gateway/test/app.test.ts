import { readFileSync } from 'node:fs';
import { ConfigError } from '@repo/service-kit';
import { mariadb, uid } from '@repo/test-support';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.ts';
import { createDatabase } from '../src/store/create-database.ts';
import { buildTestApp, type Harness, type ProblemBody, startHarness } from './helpers.ts';

const server = await mariadb();

const READ_KEY = 'reporting-read-key-0123456789';
const WRITE_KEY = 'billing-write-key-0123456789';

describe('config', () => {
  it('starts on a laptop with defaults', () => {
    const config = parseConfig({});
    expect(config).toMatchObject({
      GATEWAY_HOST: '0.0.0.0',
      GATEWAY_PORT: 3001,
      DATABASE_URL: 'sqlite:.data/payment-gateway.sqlite',
      MIGRATE_ON_START: true,
      PORTONE_API_URL: 'http://127.0.0.1:3003',
      PORTONE_IMP_KEY: 'imp_emulator_key',
      ACCEPT_SANDBOX_PAYMENTS: false,
      API_KEYS: [],
      WEBHOOK_ALLOWED_IPS: [],
      CANCEL_FORGED_PAYMENTS: false,
      IDEMPOTENCY_TTL_SECONDS: 86400,
      IDEMPOTENCY_LEASE_SECONDS: 120,
    });
    expect(config.PORTONE_TIER).toBeUndefined();
  });

  it('refuses the old PORTONE_INCLUDE_SANDBOX=true, naming its replacement (a test payment is never real by default)', () => {
    expect(() => parseConfig({ PORTONE_INCLUDE_SANDBOX: 'true' })).toThrow(
      /PORTONE_INCLUDE_SANDBOX: replaced by ACCEPT_SANDBOX_PAYMENTS/,
    );
    expect(parseConfig({ PORTONE_INCLUDE_SANDBOX: 'false' }).ACCEPT_SANDBOX_PAYMENTS).toBe(false);
    expect(parseConfig({ ACCEPT_SANDBOX_PAYMENTS: 'true' }).ACCEPT_SANDBOX_PAYMENTS).toBe(true);
  });

  it('parses lists and keys', () => {
    const config = parseConfig({
      API_KEYS: `reporting:read:${READ_KEY}, billing:write:${WRITE_KEY}`,
      TRUSTED_PROXIES: '172.16.0.0/12,10.0.0.1',
      WEBHOOK_ALLOWED_IPS: '52.78.100.19,52.78.48.223,52.78.5.241',
      CANCEL_FORGED_PAYMENTS: 'true',
    });
    expect(config.API_KEYS).toEqual([
      { name: 'reporting', role: 'read', key: READ_KEY },
      { name: 'billing', role: 'write', key: WRITE_KEY },
    ]);
    expect(config.TRUSTED_PROXIES).toEqual(['172.16.0.0/12', '10.0.0.1']);
    expect(config.WEBHOOK_ALLOWED_IPS).toHaveLength(3);
    expect(config.CANCEL_FORGED_PAYMENTS).toBe(true);
  });

  it('refuses to send the PortOne key pair over plain http:// except to loopback or with the opt-in', () => {
    const refusal = (url: string) => {
      try {
        parseConfig({ PORTONE_API_URL: url });
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).issues;
      }
      return undefined;
    };
    for (const url of ['http://portone-emulator:3003', 'http://api.iamport.kr', 'http://192.0.2.10:3003']) {
      expect(refusal(url), url).toEqual([
        { variable: 'PORTONE_API_URL', message: expect.stringContaining('PORTONE_ALLOW_INSECURE_HTTP=true') },
      ]);
    }
    for (const url of [
      'https://api.iamport.kr',
      'http://127.0.0.1:3003',
      'http://127.0.0.2:3003',
      'http://localhost:3003',
      'http://[::1]:3003',
    ]) {
      expect(refusal(url), url).toBeUndefined();
    }
    expect(refusal('ftp://api.iamport.kr')?.[0]?.variable).toBe('PORTONE_API_URL');
    // The compose dev profile's emulator, explicitly.
    const dev = parseConfig({ PORTONE_API_URL: 'http://portone-emulator:3003', PORTONE_ALLOW_INSECURE_HTTP: 'true' });
    expect(dev.PORTONE_API_URL).toBe('http://portone-emulator:3003');
  });

  it('names every bad variable', () => {
    let error: unknown;
    try {
      parseConfig({
        GATEWAY_PORT: 'eighty',
        DATABASE_URL: 'postgres://x',
        PORTONE_TIER: 'toolong',
        API_KEYS: 'nokey',
        CANCEL_FORGED_PAYMENTS: 'maybe',
        WEBHOOK_ALLOWED_IPS: '52.78.100.19,portone.io',
        TRUSTED_PROXIES: '10.0.0.0/99',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const variables = (error as ConfigError).issues.map((i) => i.variable);
    expect(variables).toEqual(
      expect.arrayContaining([
        'GATEWAY_PORT',
        'DATABASE_URL',
        'PORTONE_TIER',
        'API_KEYS',
        'CANCEL_FORGED_PAYMENTS',
        'WEBHOOK_ALLOWED_IPS',
        'TRUSTED_PROXIES',
      ]),
    );
  });
});

describe('health, readiness and docs (SQLite, no PortOne needed)', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildTestApp(
      parseConfig({
        DATABASE_URL: 'sqlite::memory:',
        API_KEYS: `reporting:read:${READ_KEY}`,
        LOG_LEVEL: 'silent',
        PORTONE_API_URL: 'http://127.0.0.1:9',
      }),
    );
  });
  afterAll(async () => {
    await app?.close();
  });

  it('answers /health and /ready without a key', async () => {
    expect((await app.inject({ method: 'GET', url: '/health' })).json()).toEqual({ status: 'ok' });
    const ready = await app.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready' });
  });

  it('reports not ready while migrations are pending', async () => {
    const db = createDatabase({ url: 'sqlite::memory:' });
    const unmigrated = await buildTestApp(
      { ...parseConfig({ LOG_LEVEL: 'silent', PORTONE_API_URL: 'http://127.0.0.1:9' }), MIGRATE_ON_START: false },
      { db },
    );
    try {
      const res = await unmigrated.inject({ method: 'GET', url: '/ready' });
      expect(res.statusCode).toBe(503);
      expect(res.json<ProblemBody>().code).toBe('NOT_READY');
      expect(res.json<ProblemBody>().detail).toContain('pending');
    } finally {
      await unmigrated.close();
      await db.destroy();
    }
  });

  it('serves OpenAPI JSON and Swagger UI without a key; every route has a tag, a summary and its statuses', async () => {
    const ui = await app.inject({ method: 'GET', url: '/api/v1/docs/gateway' });
    expect([200, 302]).toContain(ui.statusCode);
    // A path under the docs that does not exist is the service's own 404 problem.
    const missing = await app.inject({ method: 'GET', url: '/api/v1/docs/gateway/nothing-here' });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
    const res = await app.inject({ method: 'GET', url: '/api/v1/docs/gateway/json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json<{
      paths: Record<string, Record<string, { tags?: string[]; summary?: string; responses: Record<string, unknown> }>>;
    }>();
    const expected: [string, string, string[]][] = [
      ['/api/v1/payments', 'get', ['200', '400']],
      ['/api/v1/payments/{imp_uid}', 'get', ['200', '404', '503']],
      ['/api/v1/payments/find/{merchant_uid}', 'get', ['200', '404']],
      ['/api/v1/payments/prepare', 'post', ['201', '400', '409', '422']],
      ['/api/v1/payments/cancel', 'post', ['200', '400', '404', '409', '422', '502', '503', '504']],
      ['/api/v1/payments/vbank', 'post', ['201', '400', '422', '502']],
      ['/api/v1/payments/verify', 'post', ['200', '400', '404', '422']],
      ['/api/v1/subscriptions', 'get', ['200']],
      ['/api/v1/subscriptions/billing-key/{customer_uid}', 'get', ['200', '404']],
      ['/api/v1/subscriptions/billing-key/{customer_uid}', 'delete', ['200', '404']],
      ['/api/v1/subscriptions/billing-key', 'post', ['201', '400', '422']],
      ['/api/v1/subscriptions/pay', 'post', ['201', '400', '422', '502']],
      ['/api/v1/subscriptions/schedule/{customer_uid}', 'get', ['200']],
      ['/api/v1/subscriptions/schedule', 'post', ['201', '400', '422']],
      ['/api/v1/subscriptions/schedule/{customer_uid}', 'delete', ['200', '400', '422']],
      ['/api/v1/webhooks/portone', 'post', ['200', '400', '403']],
    ];
    for (const [path, method, statuses] of expected) {
      const op = doc.paths[path]?.[method];
      expect(op, `${method} ${path}`).toBeDefined();
      expect(op?.tags?.length, `${method} ${path} tag`).toBeGreaterThan(0);
      expect(op?.summary, `${method} ${path} summary`).toBeTruthy();
      for (const status of statuses) expect(Object.keys(op?.responses ?? {}), `${method} ${path}`).toContain(status);
    }
  });

  it('OpenAPI: servers, the package version, paths without a trailing slash, form webhooks, Idempotent-Replayed', async () => {
    // biome-ignore lint/suspicious/noExplicitAny: the document is inspected field by field
    const doc = (await app.inject({ method: 'GET', url: '/api/v1/docs/gateway/json' })).json<any>();
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(doc.info.version).toBe(pkg.version);
    expect(doc.servers).toEqual([expect.objectContaining({ url: '/' })]);
    expect(Object.keys(doc.paths).filter((p) => p.length > 1 && p.endsWith('/'))).toEqual([]);
    const webhook = doc.paths['/api/v1/webhooks/portone'].post.requestBody.content;
    expect(Object.keys(webhook).sort()).toEqual(['application/json', 'application/x-www-form-urlencoded']);
    expect(webhook['application/x-www-form-urlencoded'].schema).toEqual(webhook['application/json'].schema);
    for (const [path, method] of [
      ['/api/v1/payments/prepare', 'post'],
      ['/api/v1/payments/cancel', 'post'],
      ['/api/v1/subscriptions/pay', 'post'],
    ] as const) {
      const op = doc.paths[path][method];
      expect(
        op.parameters.map((p: { name: string }) => p.name),
        path,
      ).toContain('idempotency-key');
      for (const [status, response] of Object.entries(op.responses)) {
        expect((response as { headers?: object }).headers, `${path} ${status}`).toHaveProperty('Idempotent-Replayed');
      }
    }
    expect(doc.paths['/api/v1/payments/{imp_uid}'].get.responses['200'].headers).toBeUndefined();
  });

  it('answers unknown routes with a 404 problem', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/nothing', headers: { 'x-api-key': READ_KEY } });
    expect(res.statusCode).toBe(404);
    expect(res.json<ProblemBody>().code).toBe('ROUTE_NOT_FOUND');
  });
});

describe.runIf(server)('API keys (emulator over HTTP, MariaDB)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(server as string, {
      env: { API_KEYS: `reporting:read:${READ_KEY},billing:write:${WRITE_KEY}` },
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  const writes: [string, string, unknown][] = [
    ['POST', '/api/v1/payments/prepare', { merchant_uid: 'm', amount: 1 }],
    ['POST', '/api/v1/payments/cancel', { imp_uid: 'imp_1' }],
    ['POST', '/api/v1/payments/vbank', { merchant_uid: 'm', amount: 1, vbank_code: '88' }],
    ['POST', '/api/v1/payments/verify', { imp_uid: 'imp_1' }],
    [
      'POST',
      '/api/v1/subscriptions/billing-key',
      { customer_uid: 'c', card_number: '4111111111111111', expiry: '2099-12' },
    ],
    ['DELETE', '/api/v1/subscriptions/billing-key/c', undefined],
    ['POST', '/api/v1/subscriptions/pay', { customer_uid: 'c', merchant_uid: 'm', amount: 1, name: 'n' }],
    ['POST', '/api/v1/subscriptions/schedule', { customer_uid: 'c', schedules: [] }],
    ['DELETE', '/api/v1/subscriptions/schedule/c', { merchant_uid: ['m'] }],
  ];

  it('refuses calls without a key (401) and with a wrong key (401)', async () => {
    const none = await h.inject({ method: 'GET', url: '/api/v1/payments' });
    expect(none.statusCode).toBe(401);
    expect(none.json<ProblemBody>().code).toBe('UNAUTHORIZED');
    const wrong = await h.inject({ method: 'GET', url: '/api/v1/payments', headers: { 'x-api-key': 'x'.repeat(24) } });
    expect(wrong.statusCode).toBe(401);
  });

  it('lets a read-only key read but refuses it every POST and DELETE (403)', async () => {
    const read = await h.inject({ method: 'GET', url: '/api/v1/payments', headers: { 'x-api-key': READ_KEY } });
    expect(read.statusCode).toBe(200);
    for (const [method, url, payload] of writes) {
      const res = await h.inject({
        method: method as 'POST' | 'DELETE',
        url,
        headers: { 'x-api-key': READ_KEY },
        ...(payload === undefined ? {} : { payload: payload as object }),
      });
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      expect(res.json<ProblemBody>().code).toBe('FORBIDDEN');
    }
  });

  it('lets a write key through (Bearer works too), and scopes idempotency keys to the caller', async () => {
    const merchantUid = uid('auth');
    const res = await h.inject({
      method: 'POST',
      url: '/api/v1/payments/prepare',
      headers: { authorization: `Bearer ${WRITE_KEY}`, 'idempotency-key': 'shared-key' },
      payload: { merchant_uid: merchantUid, amount: 1000 },
    });
    expect(res.statusCode).toBe(201);
    const row = await h.db
      .selectFrom('idempotency_keys')
      .selectAll()
      .where('idem_key', '=', 'shared-key')
      .executeTakeFirstOrThrow();
    expect(row.scope).toBe('billing');
    expect(h.logs.text()).not.toContain(WRITE_KEY);
  });

  it('keeps the webhook public', async () => {
    const res = await h.inject({
      method: 'POST',
      url: '/api/v1/webhooks/portone',
      payload: { imp_uid: 'imp_000000000001', status: 'paid' },
    });
    expect(res.statusCode).toBe(200);
  });

  it('logs every PortOne call with operation, status, duration and attempt, and no secret', async () => {
    await h.inject({ method: 'GET', url: '/api/v1/payments/imp_404404404', headers: { 'x-api-key': READ_KEY } });
    const calls = h.logs.parsed().filter((l) => l.component === 'portone');
    const lookup = calls.find((l) => l.operation === 'payments.get' && l.status === 404);
    expect(lookup).toMatchObject({ method: 'GET', path: '/payments/{imp_uid}', attempt: 1, outcome: 'error' });
    expect(typeof lookup?.durationMs).toBe('number');
    expect(String(lookup?.impKey)).not.toContain('imp_emulator_key');
    const text = h.logs.text();
    expect(text).not.toContain('imp_emulator_secret');
    expect(text).not.toContain(READ_KEY);
    expect(text).not.toMatch(/"access_token":"[0-9a-f]{20,}/);
  });
});

describe('local mode (no API keys)', () => {
  it('answers loopback callers and refuses others', async () => {
    const app = await buildTestApp(
      parseConfig({ DATABASE_URL: 'sqlite::memory:', LOG_LEVEL: 'silent', PORTONE_API_URL: 'http://127.0.0.1:9' }),
    );
    try {
      const local = await app.inject({ method: 'GET', url: '/api/v1/payments' });
      expect(local.statusCode).toBe(200);
      const remote = await app.inject({ method: 'GET', url: '/api/v1/payments', remoteAddress: '203.0.113.7' });
      expect(remote.statusCode).toBe(403);
    } finally {
      await app.close();
    }
  });
});
