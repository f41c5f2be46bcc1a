import { eventually } from '@repo/test-support';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerEngine } from '../../src/docker/engine.ts';
import { startDockerd, stopDockerd } from '../support/dockerd.ts';
import { BUSYBOX, cleanup, listen, makeApp, ndjson, requireEngine, SOCKET } from '../support/helpers.ts';
import { startRegistry, type TestRegistry } from '../support/registry.ts';

const PREFIX = 'da-flt-';
const engine = await requireEngine();

/** An NDJSON stream read in the background: its events, and a promise for its end (or failure). */
function follow(response: Response) {
  const events: Record<string, unknown>[] = [];
  const ended = (async () => {
    for await (const event of ndjson(response)) events.push(event);
  })();
  return { status: response.status, events, ended };
}

const withTimeout = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} hung`)), ms))]);

/**
 * Disruptive: stops dockerd (SIGTERM) while a log follow, a stats stream and a slow pull are open
 * over real HTTP, then starts it again the way scripts/services.sh does. Whatever happens, the
 * engine is running again when this file ends.
 */
describe.runIf(engine)('docker engine restart with streams open', () => {
  const docker = engine as DockerEngine;
  let app: FastifyInstance;
  let base: string;
  let registry: TestRegistry;

  beforeAll(async () => {
    await cleanup(docker, PREFIX);
    registry = await startRegistry();
    const { id } = await docker.createContainer({
      Image: BUSYBOX,
      name: `${PREFIX}chatty`,
      // Exits at once on the engine's SIGTERM, so the outage stays short.
      Cmd: ['sh', '-c', "trap 'exit 0' TERM; i=0; while true; do i=$((i+1)); echo line $i; sleep 0.2; done"],
    });
    await docker.startContainer(id);
    app = await makeApp({ DOCKER_AGENT_HEARTBEAT_MS: '500' });
    base = await listen(app);
  });

  afterAll(async () => {
    try {
      await startDockerd();
    } finally {
      await app?.close();
      await registry?.close();
      const fresh = await requireEngine();
      if (fresh) {
        await cleanup(fresh, PREFIX);
        await fresh.removeImage(`${registry.host}/da-flt/slow`, { force: true, noprune: false }).catch(() => {});
        fresh.close();
      }
      docker.close();
    }
  }, 120_000);

  it('ends every open stream cleanly, answers 503 naming the socket while down, and recovers by itself', async () => {
    const logs = follow(await fetch(`${base}/api/v1/containers/${PREFIX}chatty/logs?follow=true&tail=0`));
    const stats = follow(await fetch(`${base}/api/v1/containers/${PREFIX}chatty/stats?stream=true`));
    const pull = follow(
      await fetch(`${base}/api/v1/images/pull`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ image: `${registry.host}/da-flt/slow` }),
      }),
    );
    expect([logs.status, stats.status, pull.status]).toEqual([200, 200, 200]);
    await eventually(() => {
      expect(logs.events.some((e) => e.type === 'log')).toBe(true);
      expect(stats.events.some((e) => e.type === 'stats')).toBe(true);
      expect(pull.events.some((e) => e.type === 'progress' && e.status === 'Downloading')).toBe(true);
    }, 15_000);
    expect(app.docker.openConnections()).toBe(3);

    const stoppedAt = Date.now();
    try {
      await stopDockerd();
      // Each stream ends (no hang): with its last line, or a final error line naming the engine.
      await withTimeout(Promise.all([logs.ended, stats.ended, pull.ended]), 20_000, 'a stream');
      const endedIn = Date.now() - stoppedAt;
      for (const [name, s] of Object.entries({ logs, stats, pull })) {
        const last = s.events.at(-1) ?? {};
        const errors = s.events.filter((e) => e.type === 'error');
        expect(errors.length, name).toBeLessThanOrEqual(1);
        if (errors.length) {
          expect(last, name).toEqual({
            type: 'error',
            code: expect.any(String),
            status: expect.any(Number),
            message: expect.any(String),
          });
        } else expect(['log', 'stats', 'heartbeat'], `${name}: ${JSON.stringify(last)}`).toContain(last.type);
      }
      // The pull was cut off midway: it cannot end as if it had succeeded.
      expect(pull.events.at(-1)).toMatchObject({ type: 'error' });
      expect(pull.events.some((e) => e.type === 'done')).toBe(false);
      console.info(`streams ended ${endedIn} ms after SIGTERM to dockerd; last lines:`, {
        logs: logs.events.at(-1),
        stats: stats.events.at(-1)?.type,
        pull: pull.events.at(-1),
      });
      await eventually(() => expect(app.docker.openConnections()).toBe(0));

      const ready = await fetch(`${base}/ready`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { detail: string }).detail).toContain(SOCKET);
      const list = await fetch(`${base}/api/v1/containers`);
      expect(list.status).toBe(503);
      expect(await list.json()).toMatchObject({ code: 'DOCKER_UNAVAILABLE', detail: expect.stringContaining(SOCKET) });
      const follow503 = await fetch(`${base}/api/v1/containers/${PREFIX}chatty/logs?follow=true`);
      expect(follow503.status).toBe(503);
      await follow503.body?.cancel();
    } finally {
      await startDockerd();
    }
    console.info(`engine outage: ${Date.now() - stoppedAt} ms`);

    // Nobody restarts the agent: it answers again as soon as the engine does.
    await eventually(
      async () => {
        const ready = await fetch(`${base}/ready`);
        expect(ready.status).toBe(200);
        expect(await ready.json()).toMatchObject({ status: 'ready', docker: { socket: SOCKET } });
      },
      30_000,
      250,
    );
    const list = await fetch(`${base}/api/v1/containers?name=${PREFIX}`);
    expect(list.status).toBe(200);
    expect(((await list.json()) as { containers: { name: string }[] }).containers.map((c) => c.name)).toContain(
      `${PREFIX}chatty`,
    );
    await eventually(() => expect(app.docker.openConnections()).toBe(0));
  });
});
