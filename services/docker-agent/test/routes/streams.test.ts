import { eventually } from '@repo/test-support';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerEngine } from '../../src/docker/engine.ts';
import { BUSYBOX, cleanup, listen, makeApp, ndjson, readAll, requireEngine } from '../support/helpers.ts';

const PREFIX = 'da-str-';
const engine = await requireEngine();

/** Logs and stats over real HTTP: read to the end, abandoned midway, heartbeats on quiet streams. */
describe.runIf(engine)('log and stats streams (real HTTP, real engine)', () => {
  const docker = engine as DockerEngine;
  let app: FastifyInstance;
  let base: string;

  const run = async (name: string, script: string, tty = false) => {
    const { id } = await docker.createContainer({
      Image: BUSYBOX,
      name: `${PREFIX}${name}`,
      Cmd: ['sh', '-c', script],
      Tty: tty,
    });
    await docker.startContainer(id);
    return id;
  };

  beforeAll(async () => {
    await cleanup(docker, PREFIX);
    app = await makeApp({ DOCKER_AGENT_HEARTBEAT_MS: '300' });
    base = await listen(app);
  });
  afterAll(async () => {
    await app?.close();
    await cleanup(docker, PREFIX);
    docker.close();
  });

  it('follows the logs of a finished container to the end, demultiplexed', async () => {
    await run('done', 'echo one; echo two >&2; printf "no newline at end"');
    await eventually(async () => expect((await docker.inspectContainer(`${PREFIX}done`)).State.Running).toBe(false));
    const res = await fetch(`${base}/api/v1/containers/${PREFIX}done/logs?follow=true`);
    expect(res.headers.get('content-type')).toContain('application/x-ndjson');
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    const events = (await readAll(res)).filter((e) => e.type !== 'heartbeat');
    expect(events).toEqual(
      expect.arrayContaining([
        { type: 'log', stream: 'stdout', line: 'one' },
        { type: 'log', stream: 'stderr', line: 'two' },
        { type: 'log', stream: 'stdout', line: 'no newline at end' },
      ]),
    );
    expect(events).toHaveLength(3);
    await eventually(() => expect(app.docker.openConnections()).toBe(0));
  });

  it('writes each followed line as the JSON of its event, escapes and timestamps included', async () => {
    await run('escapes', `printf '%s\\n' 'say "hi"' 'back\\slash' 'tab\there' 'ünïcødé ✓'; echo err >&2`);
    await eventually(async () => expect((await docker.inspectContainer(`${PREFIX}escapes`)).State.Running).toBe(false));
    const res = await fetch(`${base}/api/v1/containers/${PREFIX}escapes/logs?follow=true&timestamps=true`);
    const lines = (await res.text()).split('\n').filter((l) => l && !l.includes('"heartbeat"'));
    const events = lines.map((l) => JSON.parse(l) as { type: string; stream: string; line: string; ts: string });
    expect(events.map((e) => [e.stream, e.line])).toEqual(
      expect.arrayContaining([
        ['stdout', 'say "hi"'],
        ['stdout', 'back\\slash'],
        ['stdout', 'tab\there'],
        ['stdout', 'ünïcødé ✓'],
        ['stderr', 'err'],
      ]),
    );
    expect(events).toHaveLength(5);
    for (const [i, e] of events.entries()) {
      expect(e.ts).toMatch(/^\d{4}-\d{2}-\d{2}T/);
      // The same bytes as the event object's JSON: {type, stream, line, ts} in that order.
      expect(lines[i]).toBe(JSON.stringify({ type: 'log', stream: e.stream, line: e.line, ts: e.ts }));
    }
  });

  it('reads TTY logs raw (no multiplexing)', async () => {
    await run('tty', 'echo from-tty; echo also >&2', true);
    await eventually(async () => expect((await docker.inspectContainer(`${PREFIX}tty`)).State.Running).toBe(false));
    const res = await fetch(`${base}/api/v1/containers/${PREFIX}tty/logs`);
    expect(((await res.json()) as { lines: unknown[] }).lines).toEqual([
      { stream: 'stdout', line: 'from-tty' },
      { stream: 'stdout', line: 'also' },
    ]);
  });

  it('abandoning a followed log stream destroys the engine stream', async () => {
    await run('chatty', 'i=0; while true; do i=$((i+1)); echo "line $i"; sleep 0.1; done');
    const abort = new AbortController();
    const res = await fetch(`${base}/api/v1/containers/${PREFIX}chatty/logs?follow=true&tail=0`, {
      signal: abort.signal,
    });
    const lines: string[] = [];
    for await (const event of ndjson(res)) {
      if (event.type === 'log') lines.push(String(event.line));
      if (lines.length === 3) break;
    }
    expect(lines[0]).toMatch(/^line \d+$/);
    expect(app.docker.openConnections()).toBe(1);
    abort.abort();
    await eventually(() => expect(app.docker.openConnections()).toBe(0));
  });

  it('sends heartbeats on a quiet stream, then releases it when the caller leaves', async () => {
    await run('quiet', 'sleep 60');
    const abort = new AbortController();
    const started = Date.now();
    const res = await fetch(`${base}/api/v1/containers/${PREFIX}quiet/logs?follow=true`, { signal: abort.signal });
    expect(Date.now() - started).toBeLessThan(250); // headers before the first heartbeat
    const beats: Record<string, unknown>[] = [];
    for await (const event of ndjson(res)) {
      beats.push(event);
      if (beats.length === 2) break;
    }
    expect(beats.every((b) => b.type === 'heartbeat' && typeof b.ts === 'string')).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    abort.abort();
    await eventually(() => expect(app.docker.openConnections()).toBe(0));
  });

  it('streams stats with computed numbers and releases the engine stream when abandoned', async () => {
    await run('busy', 'while true; do :; done');
    const abort = new AbortController();
    const res = await fetch(`${base}/api/v1/containers/${PREFIX}busy/stats?stream=true`, { signal: abort.signal });
    const samples: Record<string, unknown>[] = [];
    for await (const event of ndjson(res)) {
      if (event.type === 'stats') samples.push(event);
      if (samples.length === 3) break;
    }
    const last = samples.at(-1) as {
      cpu: { percent: number };
      memory: { usage: number; limit: number; percent: number };
      name: string;
    };
    expect(last.name).toBe(`${PREFIX}busy`);
    expect(last.cpu.percent).toBeGreaterThan(5); // a busy loop
    expect(last.memory.limit).toBeGreaterThan(0);
    expect(app.docker.openConnections()).toBe(1);
    abort.abort();
    await eventually(() => expect(app.docker.openConnections()).toBe(0));
  });

  it('a stats stream ends when its container is removed', async () => {
    await run('ends', 'sleep 60');
    const res = await fetch(`${base}/api/v1/containers/${PREFIX}ends/stats?stream=true`);
    const events: Record<string, unknown>[] = [];
    let removed = false;
    for await (const event of ndjson(res)) {
      events.push(event);
      // Remove once, on the first stats event: the events after it (more stats, the end) must not
      // remove it again.
      if (!removed && event.type === 'stats') {
        removed = true;
        await docker.removeContainer(`${PREFIX}ends`, { force: true, volumes: true });
      }
    }
    expect(events.filter((e) => e.type === 'stats').length).toBeGreaterThanOrEqual(1);
    await eventually(() => expect(app.docker.openConnections()).toBe(0));
  });

  it('answers a log stream the engine refuses with a problem, not a stream, and releases the connection', async () => {
    // The "none" log driver keeps nothing: the engine refuses to read its logs (501).
    const { id } = await docker.createContainer({
      Image: BUSYBOX,
      name: `${PREFIX}nolog`,
      Cmd: ['sh', '-c', 'echo gone'],
      HostConfig: { LogConfig: { Type: 'none', Config: {} } },
    });
    const res = await fetch(`${base}/api/v1/containers/${id}/logs?follow=true`);
    expect(res.status).toBe(502);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(await res.json()).toMatchObject({ code: 'DOCKER_ERROR', detail: expect.stringContaining('logging driver') });
    await eventually(() => expect(app.docker.openConnections()).toBe(0));
  });

  it('answers unknown containers with a 404 problem, not a stream', async () => {
    const res = await fetch(`${base}/api/v1/containers/${PREFIX}nope/logs?follow=true`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });

  it('/metrics counts the streams started per route and requests per route and status', async () => {
    await run('metrics', 'echo counted');
    await eventually(async () => expect((await docker.inspectContainer(`${PREFIX}metrics`)).State.Running).toBe(false));
    await readAll(await fetch(`${base}/api/v1/containers/${PREFIX}metrics/logs`));
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^docker_streams_started_total\{route="\/api\/v1\/containers\/:id\/logs"\} [1-9]/m);
    expect(text).toMatch(/^docker_streams_open \d+/m);
    expect(text).toMatch(
      /^http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/containers\/:id\/logs",status_code="200"\} [1-9]/m,
    );
  });
});
