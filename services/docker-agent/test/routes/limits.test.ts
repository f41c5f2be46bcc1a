import { eventually } from '@repo/test-support';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DockerEngine } from '../../src/docker/engine.ts';
import { BUSYBOX, cleanup, listen, makeApp, requireEngine } from '../support/helpers.ts';

const PREFIX = 'i10b-limits-';
const engine = await requireEngine();

describe.runIf(engine)('resource limits on logs and streams (real engine)', () => {
  const docker = engine as DockerEngine;
  let app: FastifyInstance;
  let base: string;
  const streams: AbortController[] = [];

  beforeAll(async () => {
    await cleanup(docker, PREFIX);
    const noisy = await docker.createContainer({ Image: BUSYBOX, name: `${PREFIX}noisy`, Cmd: ['seq', '1', '1500'] });
    await docker.startContainer(noisy.id);
    const quiet = await docker.createContainer({ Image: BUSYBOX, name: `${PREFIX}quiet`, Cmd: ['sleep', '600'] });
    await docker.startContainer(quiet.id);
    await eventually(async () => expect((await docker.inspectContainer(noisy.id)).State.Running).toBe(false), 20_000);
    app = await makeApp({
      DOCKER_AGENT_LOGS_TAIL: '100',
      DOCKER_AGENT_LOGS_MAX_BYTES: '2000',
      DOCKER_AGENT_MAX_STREAMS: '2',
    });
    base = await listen(app);
  });
  afterEach(() => {
    for (const s of streams.splice(0)) s.abort();
  });
  afterAll(async () => {
    await app?.close();
    await cleanup(docker, PREFIX);
    docker.close();
  });

  it('answers DOCKER_AGENT_LOGS_TAIL lines when the caller names no tail', async () => {
    const res = await app.inject({ method: 'GET', url: `/api/v1/containers/${PREFIX}noisy/logs` });
    expect(res.statusCode).toBe(200);
    const lines = res.json().lines as { line: string }[];
    expect(lines).toHaveLength(100);
    expect(lines.at(-1)?.line).toBe('1500');
  });

  it('refuses a non-follow answer past DOCKER_AGENT_LOGS_MAX_BYTES with a 422, without holding it', async () => {
    const res = await app.inject({ method: 'GET', url: `/api/v1/containers/${PREFIX}noisy/logs?tail=all` });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'LOGS_TOO_LARGE' });
    expect(res.json().detail).toContain('DOCKER_AGENT_LOGS_MAX_BYTES');
    await eventually(() => expect(app.docker.openConnections()).toBe(0));
  });

  it('caps concurrent streams at DOCKER_AGENT_MAX_STREAMS with a 429, and frees a slot when one closes', async () => {
    const open = async (path: string) => {
      const abort = new AbortController();
      streams.push(abort);
      return { abort, res: await fetch(`${base}/api/v1/containers/${PREFIX}quiet/${path}`, { signal: abort.signal }) };
    };
    const first = await open('logs?follow=true');
    const second = await open('stats?stream=true');
    expect([first.res.status, second.res.status]).toEqual([200, 200]);
    const third = await open('logs?follow=true');
    expect(third.res.status).toBe(429);
    expect(await third.res.json()).toMatchObject({ code: 'TOO_MANY_STREAMS', status: 429 });
    // Plain (non-stream) answers are not counted.
    expect((await open('logs?tail=1')).res.status).toBe(200);
    first.abort.abort();
    await eventually(async () => {
      const again = await open('logs?follow=true');
      expect(again.res.status).toBe(200);
    });
  });
});
