import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { eventually, freePort, requestsWhileClosing } from '@repo/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerEngine } from '../../src/docker/engine.ts';
import { BUSYBOX, cleanup, ndjson, requireEngine, SOCKET } from '../support/helpers.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../../../..');
const PREFIX = 'da-sig-';
const KEY = 'sigterm-writer-0123456789';
const SHUTDOWN_TIMEOUT_MS = 10_000; // service-kit's runServer default
const engine = await requireEngine();

/**
 * Disruptive: the built agent (`node dist/server.js`) as a real process under load gets SIGTERM.
 * In-flight requests finish, new connections are refused or answered 503, open streams end, the
 * process exits 0 within the shutdown timeout, and the audit file holds only whole lines.
 */
describe.runIf(engine)('SIGTERM during load (built agent, real process)', () => {
  const docker = engine as DockerEngine;
  let agent: ChildProcess | undefined;
  let port: number;
  let auditFile: string;
  const logLines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    // The agent and what it imports (service-kit), exactly as `scripts/bundle.sh` builds them.
    await run('pnpm', ['--filter', '@repo/docker-agent...', 'run', 'build'], { cwd: ROOT, timeout: 180_000 });
    await cleanup(docker, PREFIX);
    const { id } = await docker.createContainer({
      Image: BUSYBOX,
      name: `${PREFIX}chatty`,
      Cmd: ['sh', '-c', "trap 'exit 0' TERM; i=0; while true; do i=$((i+1)); echo line $i; sleep 0.1; done"],
    });
    await docker.startContainer(id);

    const data = mkdtempSync(join(tmpdir(), 'da-sig-'));
    auditFile = join(data, 'audit.jsonl');
    port = await freePort();
    agent = spawn(process.execPath, ['services/docker-agent/dist/server.js'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DOCKER_AGENT_HOST: '127.0.0.1',
        DOCKER_AGENT_PORT: String(port),
        API_KEYS: `loader:write:${KEY}`,
        DOCKER_SOCKET: SOCKET,
        DOCKER_AGENT_AUDIT_FILE: auditFile,
        DOCKER_AGENT_COMPOSE_DIR: join(data, 'compose'),
        DOCKER_AGENT_HEARTBEAT_MS: '500',
        LOG_LEVEL: 'debug',
      },
    });
    let buffered = '';
    agent.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) logLines.push(JSON.parse(line) as Record<string, unknown>);
    });
    await eventually(async () => expect((await fetch(`http://127.0.0.1:${port}/ready`)).status).toBe(200), 20_000, 100);
  }, 240_000);

  afterAll(async () => {
    if (agent && agent.exitCode === null && agent.signalCode === null) agent.kill('SIGKILL');
    await cleanup(docker, PREFIX);
    docker.close();
  });

  it('finishes in-flight requests, refuses new ones, ends streams, exits 0, leaves whole audit lines', async () => {
    const proc = agent as ChildProcess;
    const exited = new Promise<{ code: number | null; signal: string | null; at: number }>((r) =>
      proc.once('exit', (code, signal) => r({ code, signal, at: Date.now() })),
    );
    const base = `http://127.0.0.1:${port}/api/v1`;
    const headers = { 'x-api-key': KEY };
    const ctr = `${PREFIX}chatty`;

    const stream = await fetch(`${base}/containers/${ctr}/logs?follow=true&tail=0`, { headers });
    expect(stream.status).toBe(200);
    const streamed: Record<string, unknown>[] = [];
    // Resolves with the reason the stream broke off, if it did not end cleanly.
    const streamEnded = (async () => {
      for await (const e of ndjson(stream)) streamed.push(e);
    })().then(
      () => undefined,
      (error: unknown) => String((error as Error).cause ?? error),
    );
    await eventually(() => expect(streamed.some((e) => e.type === 'log')).toBe(true), 10_000);

    // 50 in flight: one-shot stats (the engine takes about a second each), lists, inspects, and
    // no-op starts (audited writes).
    // Arrivals are debug lines (LOG_LEVEL above), counted by their own request ids: log lines are
    // written in batches, so a count taken before sending could still be missing earlier ones.
    const loadId = (i: number) => `sigterm-load-${i}`;
    const arrived = () =>
      logLines.filter((l) => l.msg === 'incoming request' && String(l.reqId).startsWith('sigterm-load-')).length;
    const load = Array.from({ length: 50 }, (_, i) => {
      const [method, path] =
        i % 10 < 4
          ? ['GET', `/containers/${ctr}/stats`]
          : i % 10 < 6
            ? ['GET', i % 2 ? '/containers' : `/containers/${ctr}`]
            : ['POST', `/containers/${ctr}/start`];
      return fetch(`${base}${path}`, { method, headers: { ...headers, 'x-request-id': loadId(i) } }).then(
        async (r) => ({
          method,
          path,
          status: r.status,
          body: await r.text(),
        }),
      );
    });
    await eventually(() => expect(arrived()).toBe(50), 10_000, 5);
    const signalledAt = Date.now();
    proc.kill('SIGTERM');

    // New clients once it has begun closing: refused, or answered 503 while the server drains.
    const late = await requestsWhileClosing(
      proc,
      () => logLines.some((l) => l.msg === 'shutting down'),
      port,
      '/api/v1/containers',
      { 'x-api-key': KEY },
    );

    const results = await Promise.all(load);
    for (const r of results) expect(r.status, `${r.method} ${r.path}: ${r.body.slice(0, 200)}`).toBe(200);
    const { code, signal, at } = await exited;
    const streamBroken = await streamEnded;
    console.info(
      `SIGTERM: exit ${code} after ${at - signalledAt} ms; 50/50 in-flight answered 200; ` +
        `${late.length} late attempts: ${JSON.stringify([...new Set(late.map((l) => ('status' in l ? l.status : l.error)))])}`,
    );
    console.info(
      'last agent log lines:',
      logLines.slice(-4).map((l) => l.msg),
    );
    console.info('stream ended with:', streamed.at(-1), streamBroken ?? 'a clean end');
    expect(streamBroken).toBeUndefined();
    expect(signal).toBeNull();
    expect(code).toBe(0);
    expect(at - signalledAt).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
    expect(late.length).toBeGreaterThan(0);
    for (const l of late) {
      if ('status' in l) expect(l.status).toBe(503);
      else expect(['ECONNREFUSED', 'ECONNRESET']).toContain(l.error);
    }
    expect(streamed.filter((e) => e.type === 'log').length).toBeGreaterThan(0);
    expect(streamed.at(-1)).toEqual({
      type: 'error',
      code: 'SHUTTING_DOWN',
      status: 503,
      message: expect.stringContaining('shutting down'),
    });
    expect(logLines.some((l) => l.msg === 'shutting down')).toBe(true);

    const audit = readFileSync(auditFile, 'utf8');
    expect(audit.endsWith('\n')).toBe(true);
    const entries = audit
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { action: string; result: string; status: number });
    expect(entries.filter((e) => e.action === 'container.start')).toHaveLength(20);
    for (const e of entries) expect(e).toMatchObject({ result: 'ok', status: 200 });
  });
});
