import { mariadb } from '@repo/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fillParams,
  type Harness,
  isPublicRoute,
  type ProblemBody,
  routeInventory,
  type SeenRoute,
  startHarness,
} from '../helpers.ts';

const server = await mariadb();
const READ_KEY = 'gateway-read-key-0123456789';
const WRITE_KEY = 'gateway-write-key-0123456789';

/**
 * Every route the app registers (seen by an onRoute hook, not a hand-kept list) against every kind
 * of caller: no key and a wrong key are 401 on every non-public route, a read-only key is 403 on
 * every POST/DELETE; and, so the matrix can fail the other way, the right key gets past auth.
 */
describe.runIf(server)('auth matrix over every registered route', () => {
  let h: Harness;
  const inventory = routeInventory();
  let guarded: SeenRoute[];

  beforeAll(async () => {
    h = await startHarness(server as string, {
      env: { API_KEYS: `reporting:read:${READ_KEY},billing:write:${WRITE_KEY}` },
      deps: { onRoute: inventory.onRoute },
    });
    guarded = inventory.routes.filter((r) => !isPublicRoute(r.url));
  });
  afterAll(async () => {
    await h?.close();
  });

  const call = (route: SeenRoute, headers: Record<string, string>) =>
    h.inject({
      method: route.method as 'GET',
      url: fillParams(route.url, () => 'auth_probe_1'),
      headers: { ...headers, ...(route.method === 'POST' ? { 'content-type': 'application/json' } : {}) },
      ...(route.method === 'POST' ? { payload: '{}' } : {}),
    });

  it('the inventory holds every API route (none escaped the onRoute hook)', () => {
    const api = guarded.map((r) => `${r.method} ${r.url}`);
    for (const expected of [
      'GET /api/v1/payments',
      'GET /api/v1/payments/:imp_uid',
      'GET /api/v1/payments/find/:merchant_uid',
      'POST /api/v1/payments/prepare',
      'POST /api/v1/payments/cancel',
      'POST /api/v1/payments/vbank',
      'POST /api/v1/payments/verify',
      'GET /api/v1/subscriptions',
      'GET /api/v1/subscriptions/billing-key/:customer_uid',
      'POST /api/v1/subscriptions/billing-key',
      'DELETE /api/v1/subscriptions/billing-key/:customer_uid',
      'POST /api/v1/subscriptions/pay',
      'GET /api/v1/subscriptions/schedule/:customer_uid',
      'POST /api/v1/subscriptions/schedule',
      'DELETE /api/v1/subscriptions/schedule/:customer_uid',
    ]) {
      expect(api).toContain(expected);
    }
    // HEAD twins of the GET routes are routes too, and guarded like them.
    expect(api).toContain('HEAD /api/v1/payments/:imp_uid');
    expect(inventory.routes.map((r) => r.url)).toContain('/api/v1/webhooks/portone');
  });

  it('every route flagged idempotent claims its Idempotency-Key before the handler and stores the answer after it', () => {
    const flagged = inventory.routes.filter((r) => r.idempotent);
    expect(flagged.map((r) => `${r.method} ${r.url}`)).toEqual(
      expect.arrayContaining([
        'POST /api/v1/payments/prepare',
        'POST /api/v1/payments/cancel',
        'POST /api/v1/subscriptions/pay',
        'POST /api/v1/subscriptions/schedule',
      ]),
    );
    // The hooks are attached per route (plugins/idempotency.ts): a route registered before the plugin
    // would run without them and could move money twice on a retry.
    const names = (hooks: unknown) => [hooks].flat().map((hook) => (hook as { name?: string } | undefined)?.name);
    for (const route of flagged) {
      expect(names(route.options.preHandler), route.url).toContain('claimOrReplay');
      expect(names(route.options.onSend), route.url).toContain('finishClaim');
    }
  });

  it('no key and a wrong key: 401 UNAUTHORIZED on every non-public route', async () => {
    for (const route of guarded) {
      const callers: Record<string, string>[] = [
        {},
        { 'x-api-key': 'wrong-key-0123456789abcdef' },
        { authorization: 'Bearer wrong-key-0123456789abcdef' },
        { authorization: `Basic ${Buffer.from(`x:${WRITE_KEY}`).toString('base64')}` },
      ];
      for (const headers of callers) {
        const res = await call(route, headers);
        expect(res.statusCode, `${route.method} ${route.url} ${JSON.stringify(Object.keys(headers))}`).toBe(401);
        if (route.method !== 'HEAD') {
          expect(res.headers['content-type']).toContain('application/problem+json');
          expect(res.json<ProblemBody>().code).toBe('UNAUTHORIZED');
        }
      }
    }
  });

  it('a read-only key: 403 FORBIDDEN on every POST, PATCH and DELETE, never 401/403 on a GET', async () => {
    const isWrite = (method: string) => method === 'POST' || method === 'PATCH' || method === 'DELETE';
    const writes = guarded.filter((r) => isWrite(r.method));
    expect(writes).toHaveLength(14);
    for (const route of guarded) {
      const res = await call(route, { 'x-api-key': READ_KEY });
      const label = `${route.method} ${route.url}`;
      if (isWrite(route.method)) {
        expect(res.statusCode, label).toBe(403);
        expect(res.json<ProblemBody>().code, label).toBe('FORBIDDEN');
      } else {
        expect([401, 403], label).not.toContain(res.statusCode);
      }
    }
  });

  it('the write key gets past auth everywhere (Bearer too); public routes need no key', async () => {
    for (const route of guarded) {
      const res = await call(
        route,
        route.method === 'GET' ? { authorization: `Bearer ${WRITE_KEY}` } : { 'x-api-key': WRITE_KEY },
      );
      expect([401, 403], `${route.method} ${route.url}`).not.toContain(res.statusCode);
    }
    for (const url of ['/health', '/ready', '/api/v1/docs/gateway/json']) {
      expect((await h.inject({ method: 'GET', url })).statusCode, url).toBe(200);
    }
  });
});
