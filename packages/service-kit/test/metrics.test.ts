import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { metrics } from '../src/index.ts';

async function metricsApp() {
  const app = Fastify();
  await app.register(metrics);
  app.get('/items/:id', async () => ({ ok: true }));
  app.post('/items', async (_request, reply) => reply.code(201).send({ ok: true }));
  app.register(
    async (scoped) => {
      scoped.get('/broken', async () => {
        throw new Error('broken');
      });
    },
    { prefix: '/v1' },
  );
  await app.ready();
  return app;
}

const count = (text: string, labels: string) =>
  Number(new RegExp(`^http_request_duration_seconds_count\\{${labels}\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);

describe('metrics', () => {
  it('times every answer of a registered route by method, route pattern and status', async () => {
    const app = await metricsApp();
    await app.inject({ method: 'GET', url: '/items/1' });
    await app.inject({ method: 'GET', url: '/items/2' });
    await app.inject({ method: 'POST', url: '/items' });
    const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(count(text, 'method="GET",route="/items/:id",status_code="200"')).toBe(2);
    expect(count(text, 'method="POST",route="/items",status_code="201"')).toBe(1);
    await app.inject({ method: 'GET', url: '/v1/broken' });
    const after = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    // A failed answer is timed too, under the route's whole pattern (its prefix included).
    expect(count(after, 'method="GET",route="/v1/broken",status_code="500"')).toBe(1);
    expect(count(after, 'method="GET",route="/items/:id",status_code="200"')).toBe(2);
    expect(text).toMatch(
      /^http_request_duration_seconds_bucket\{le="\+Inf",method="GET",route="\/items\/:id",status_code="200"\} 2$/m,
    );
    expect(text).toMatch(/^process_cpu_seconds_total /m);
    await app.close();
  });

  it('leaves out unknown URLs, HEAD requests and /metrics itself', async () => {
    const app = await metricsApp();
    await app.inject({ method: 'GET', url: '/nowhere' });
    await app.inject({ method: 'HEAD', url: '/items/1' });
    await app.inject({ method: 'GET', url: '/metrics' });
    const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).not.toMatch(/^http_request_duration_seconds_count/m);
    await app.close();
  });
});
