import { eventually } from '@repo/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerEngine } from '../../src/docker/engine.ts';
import { BUSYBOX, cleanup, listen, makeApp, ndjson, requireEngine } from '../support/helpers.ts';

const PREFIX = 'da-shut-';
const engine = await requireEngine();

/** Closing the app (what SIGTERM does) ends open streams with a last line instead of waiting on them. */
describe.runIf(engine)('open streams when the app closes', () => {
  const docker = engine as DockerEngine;

  beforeAll(async () => {
    await cleanup(docker, PREFIX);
    const { id } = await docker.createContainer({
      Image: BUSYBOX,
      name: `${PREFIX}chatty`,
      Cmd: ['sh', '-c', "trap 'exit 0' TERM; while true; do echo tick; sleep 0.1; done"],
    });
    await docker.startContainer(id);
  });
  afterAll(async () => {
    await cleanup(docker, PREFIX);
    docker.close();
  });

  it('ends a followed log and a stats stream with SHUTTING_DOWN, releases the engine, and closes at once', async () => {
    const app = await makeApp({ DOCKER_AGENT_HEARTBEAT_MS: '60000' });
    const base = await listen(app);
    const read = async (url: string) => {
      const events: Record<string, unknown>[] = [];
      const res = await fetch(url);
      const done = (async () => {
        for await (const e of ndjson(res)) events.push(e);
      })();
      return { events, done };
    };
    const logs = await read(`${base}/api/v1/containers/${PREFIX}chatty/logs?follow=true&tail=0`);
    const stats = await read(`${base}/api/v1/containers/${PREFIX}chatty/stats?stream=true`);
    await eventually(() => {
      expect(logs.events.length).toBeGreaterThan(0);
      expect(stats.events.length).toBeGreaterThan(0);
    }, 10_000);
    expect(app.docker.openConnections()).toBe(2);

    const started = Date.now();
    await app.close();
    expect(Date.now() - started).toBeLessThan(2000);
    await Promise.all([logs.done, stats.done]);
    for (const s of [logs, stats]) {
      expect(s.events.at(-1)).toMatchObject({ type: 'error', code: 'SHUTTING_DOWN', status: 503 });
      expect(s.events.filter((e) => e.type === 'error')).toHaveLength(1);
    }
    await eventually(() => expect(app.docker.openConnections()).toBe(0));
  });
});
