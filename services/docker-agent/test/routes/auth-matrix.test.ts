import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeApp, requireEngine } from '../support/helpers.ts';
import { startRegistry, type TestRegistry } from '../support/registry.ts';
import { fillParams, isPublicRoute, isStateChanging, registeredRoutes } from '../support/routes.ts';

const READ_KEY = 'auth-reader-0123456789';
const WRITE_KEY = 'auth-writer-0123456789';
// Parameters name nothing on the engine, so a request that got through would answer 404, not act.
const NOWHERE = 'da-auth-nx';
const engine = await requireEngine();

function expectProblem(r: LightMyRequestResponse, status: number, code: string, where: string) {
  expect(r.statusCode, `${where}: ${r.body}`).toBe(status);
  if (where.startsWith('HEAD ')) return; // no body to check
  expect(r.headers['content-type'], where).toContain('application/problem+json');
  expect(r.json(), where).toMatchObject({ status, code, type: expect.any(String), title: expect.any(String) });
}

/**
 * Every route the app registers (read from Fastify's route tree, so new routes are covered), asked
 * with no key, a wrong key, a read key and from a remote address in local mode.
 */
describe.runIf(engine)('auth matrix over every registered route', () => {
  let app: FastifyInstance;
  let local: FastifyInstance;
  let registry: TestRegistry;

  beforeAll(async () => {
    // An update check of `da-auth-nx` asks Docker Hub: here the test's own registry, which answers 404.
    registry = await startRegistry();
    app = await makeApp({
      API_KEYS: `reader:read:${READ_KEY},writer:write:${WRITE_KEY}`,
      DOCKER_AGENT_DOCKER_HUB_URL: `http://${registry.host}`,
    });
    local = await makeApp();
  });
  afterAll(async () => {
    await app?.close();
    await local?.close();
    await registry?.close();
    engine?.close();
  });

  const send = (target: FastifyInstance, method: string, url: string, headers: Record<string, string> = {}) =>
    target.inject({
      method: method as 'GET',
      url: fillParams(url, () => NOWHERE),
      headers: isStateChanging(method) ? { 'content-type': 'application/json', ...headers } : headers,
      ...(isStateChanging(method) ? { payload: '{}' } : {}),
      remoteAddress: '127.0.0.1',
    });

  it('enumerates the whole API, and only health, ready and docs are public', async () => {
    const routes = registeredRoutes(app);
    expect(routes.length).toBeGreaterThan(60);
    for (const expected of [
      'POST /api/v1/containers/:id/stop',
      'DELETE /api/v1/images/:id',
      'POST /api/v1/system/prune',
      'PUT /api/v1/compose/:project',
      'GET /api/v1/networks/:id',
    ]) {
      expect(routes.map((r) => `${r.method} ${r.url}`)).toContain(expected);
    }
    const open: string[] = [];
    for (const { method, url } of routes) {
      const r = await send(app, method, url);
      if (r.statusCode !== 401) open.push(`${method} ${url}`);
    }
    expect(open.length).toBeGreaterThan(0);
    for (const route of open) expect(isPublicRoute(route.split(' ')[1] ?? ''), route).toBe(true);
  });

  it('refuses a missing key, a wrong key and a wrong bearer token with 401 on every non-public route', async () => {
    const routes = registeredRoutes(app).filter((r) => !isPublicRoute(r.url));
    for (const { method, url } of routes) {
      const where = `${method} ${url}`;
      expectProblem(await send(app, method, url), 401, 'UNAUTHORIZED', `${where} (no key)`);
      expectProblem(await send(app, method, url, { 'x-api-key': 'x'.repeat(22) }), 401, 'UNAUTHORIZED', where);
      expectProblem(
        await send(app, method, url, { 'x-api-key': `${READ_KEY} ` }),
        401,
        'UNAUTHORIZED',
        `${where} (key + space)`,
      );
      expectProblem(
        await send(app, method, url, { authorization: `Bearer ${WRITE_KEY.slice(0, -1)}` }),
        401,
        'UNAUTHORIZED',
        `${where} (bearer)`,
      );
    }
  });

  it('refuses a read key on every state-changing route (403) and lets it through on every read route', async () => {
    const routes = registeredRoutes(app).filter((r) => !isPublicRoute(r.url));
    const writes = routes.filter((r) => isStateChanging(r.method));
    expect(writes.length).toBeGreaterThan(20);
    for (const { method, url } of writes) {
      const r = await send(app, method, url, { 'x-api-key': READ_KEY });
      expectProblem(r, 403, 'FORBIDDEN', `${method} ${url}`);
      expect(r.json().detail).toContain('read-only');
    }
    for (const { method, url } of routes.filter((r) => !isStateChanging(r.method))) {
      const r = await send(app, method, url, { 'x-api-key': READ_KEY });
      expect([200, 404], `${method} ${url}: ${r.body}`).toContain(r.statusCode);
    }
  });

  it('accepts the write key everywhere (the request reaches the route: no 401/403)', async () => {
    for (const { method, url } of registeredRoutes(app).filter((r) => !isPublicRoute(r.url))) {
      const r = await send(app, method, url, { authorization: `Bearer ${WRITE_KEY}` });
      expect([401, 403], `${method} ${url}: ${r.body}`).not.toContain(r.statusCode);
      expect(r.statusCode, `${method} ${url}: ${r.body}`).toBeLessThan(500);
    }
  });

  it('in local mode answers remote callers 403 on every non-public route', async () => {
    for (const { method, url } of registeredRoutes(local)) {
      const r = await local.inject({
        method: method as 'GET',
        url: fillParams(url, () => NOWHERE),
        remoteAddress: '203.0.113.9',
      });
      if (isPublicRoute(url)) expect(r.statusCode, `${method} ${url}`).not.toBe(403);
      else expectProblem(r, 403, 'FORBIDDEN', `${method} ${url}`);
    }
  });
});
