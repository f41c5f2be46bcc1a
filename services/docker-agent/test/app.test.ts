import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeApp, requireEngine } from './support/helpers.ts';

const engine = await requireEngine();

describe('app without an engine', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp({ DOCKER_SOCKET: '/tmp/da-no-such-docker.sock' });
  });
  afterAll(async () => app?.close());

  it('is alive, not ready, and answers 503 naming the socket', async () => {
    expect((await app.inject({ method: 'GET', url: '/health' })).json()).toEqual({
      status: 'ok',
      service: 'docker-agent',
    });
    const ready = await app.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json().detail).toContain('/tmp/da-no-such-docker.sock');
    const list = await app.inject({ method: 'GET', url: '/api/v1/containers' });
    expect(list.statusCode).toBe(503);
    expect(list.json()).toMatchObject({ code: 'DOCKER_UNAVAILABLE' });
    expect(list.json().detail).toContain('/tmp/da-no-such-docker.sock');
  });

  it('logs request URLs with secret-looking query values redacted', async () => {
    const lines: string[] = [];
    const logged = await makeApp(
      { DOCKER_SOCKET: '/tmp/da-no-such-docker.sock', LOG_LEVEL: 'info' },
      { logStream: { write: (line) => lines.push(line) } },
    );
    try {
      await logged.inject({ method: 'GET', url: '/api/v1/containers?all=true&token=query-secret-0123' });
    } finally {
      await logged.close();
    }
    const urls = lines.map((l) => (JSON.parse(l) as { req?: { url?: string } }).req?.url).filter(Boolean);
    expect(urls).toContain('/api/v1/containers?all=true&token=[redacted]');
    expect(lines.join('')).not.toContain('query-secret-0123');
  });

  it('answers unknown routes with a problem', async () => {
    const r = await app.inject({ method: 'GET', url: '/api/v1/nothing-here' });
    expect(r.statusCode).toBe(404);
    expect(r.json().code).toBe('ROUTE_NOT_FOUND');
  });

  it('serves OpenAPI with a tag and summary on every route, and Swagger UI', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/api/v1/docs/agent/json' })).json() as {
      paths: Record<string, Record<string, { tags?: string[]; summary?: string; responses: Record<string, unknown> }>>;
    };
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ path, method, op })),
    );
    expect(operations.length).toBeGreaterThan(35);
    for (const { path, method, op } of operations) {
      expect(op.tags?.length, `${method} ${path}`).toBeGreaterThan(0);
      expect(op.summary, `${method} ${path}`).toBeTruthy();
      expect(Object.keys(op.responses).length, `${method} ${path}`).toBeGreaterThan(0);
    }
    expect(doc.paths['/api/v1/containers/{id}/stop']).toBeDefined();
    expect(doc.paths['/api/v1/images/pull']?.post?.responses['200']).toHaveProperty([
      'content',
      'application/x-ndjson',
    ]);
    // The build context is a raw tar body; lists have no trailing slash; servers and version are set.
    const build = (doc as { paths: Record<string, Record<string, { requestBody?: { content: object } }>> }).paths[
      '/api/v1/images/build'
    ]?.post?.requestBody?.content;
    expect(build).toHaveProperty(['application/x-tar', 'schema', 'format'], 'binary');
    expect(Object.keys(doc.paths).filter((p) => p.length > 1 && p.endsWith('/'))).toEqual([]);
    expect(doc.paths['/api/v1/containers']).toBeDefined();
    const full = doc as unknown as { info: { version: string }; servers: { url: string }[] };
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(full.info.version).toBe(pkg.version);
    expect(full.servers[0]?.url).toBe('/');
    const ui = await app.inject({ method: 'GET', url: '/api/v1/docs/agent/' });
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toContain('text/html');
  });
});

describe.runIf(engine)('app with the engine', () => {
  afterAll(() => engine?.close());

  it('is ready and reports the negotiated API version', async () => {
    const app = await makeApp();
    try {
      const ready = await app.inject({ method: 'GET', url: '/ready' });
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toMatchObject({
        status: 'ready',
        docker: { negotiatedApiVersion: expect.stringMatching(/^1\.\d+$/) },
      });
    } finally {
      await app.close();
    }
  });

  it('in local mode (no keys) answers loopback only', async () => {
    const app = await makeApp();
    try {
      const local = await app.inject({ method: 'GET', url: '/api/v1/system/version', remoteAddress: '127.0.0.1' });
      expect(local.statusCode).toBe(200);
      const remote = await app.inject({ method: 'GET', url: '/api/v1/system/version', remoteAddress: '203.0.113.9' });
      expect(remote.statusCode).toBe(403);
      expect(remote.json().detail).toContain('local mode');
      const health = await app.inject({ method: 'GET', url: '/health', remoteAddress: '203.0.113.9' });
      expect(health.statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});
