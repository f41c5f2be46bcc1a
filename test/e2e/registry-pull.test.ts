/**
 * A private pull through the real nginx front: the agent asks the engine to pull from the token-auth
 * registry with the caller's credentials, and the engine's progress reaches the client through nginx
 * as it happens (NDJSON, unbuffered), ending with `done`. Without credentials the front passes the
 * agent's 401 problem through.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  dockerSocket,
  freePort,
  REGISTRY,
  REGISTRY_USER,
  realService,
  requireRegistries,
  TEST_LOG_LEVEL,
  testLogStream,
} from '@repo/test-support';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nginxAvailable, type RunningFront, startFront } from '../../scripts/front.ts';
import { buildApp } from '../../services/docker-agent/src/app.ts';
import { parseConfig as parseAgentConfig } from '../../services/docker-agent/src/config.ts';

const exec = promisify(execFile);
const docker = await realService('Docker engine', () =>
  exec('docker', ['version'], { env: { ...process.env, DOCKER_HOST: `unix://${dockerSocket()}` } }),
);
const registries = await requireRegistries();
const nginx = await realService('nginx', async () => {
  if (!nginxAvailable()) throw new Error('no nginx binary on PATH');
  return true;
});

describe.runIf(docker && registries && nginx)('a private pull through the nginx front', () => {
  const dir = mkdtempSync(join(tmpdir(), 'i14-front-pull-'));
  const image = `${REGISTRY.token}/i14-front-${randomUUID().slice(0, 8)}:1`;
  // The CLI logs in through a private config, never the machine's own ~/.docker.
  const cli = (...args: string[]) =>
    exec('docker', args, {
      env: { ...process.env, DOCKER_HOST: `unix://${dockerSocket()}`, DOCKER_CONFIG: join(dir, 'docker') },
    });
  let agent: FastifyInstance;
  let front: RunningFront;

  beforeAll(async () => {
    const auth = Buffer.from(`${REGISTRY_USER.username}:${REGISTRY_USER.password}`).toString('base64');
    mkdirSync(join(dir, 'docker'));
    writeFileSync(join(dir, 'docker', 'config.json'), JSON.stringify({ auths: { [REGISTRY.token]: { auth } } }));
    mkdirSync(join(dir, 'context'));
    writeFileSync(join(dir, 'context', 'Dockerfile'), 'FROM local/busybox:1\nCOPY blob /blob\n');
    // Big enough that the engine reports download progress for it.
    writeFileSync(join(dir, 'context', 'blob'), randomBytes(4 * 1024 * 1024));
    await cli('build', '-q', '-t', image, join(dir, 'context'));
    await cli('push', '-q', image);
    await cli('rmi', '-f', image);

    agent = await buildApp(
      parseAgentConfig({
        DOCKER_SOCKET: dockerSocket(),
        DOCKER_AGENT_COMPOSE_DIR: join(dir, 'compose'),
        DOCKER_AGENT_AUDIT_FILE: join(dir, 'audit.jsonl'),
        LOG_LEVEL: TEST_LOG_LEVEL,
      }),
      { logStream: testLogStream('registry-front-agent') },
    );
    await agent.listen({ host: '127.0.0.1', port: 0 });
    const { port } = agent.server.address() as { port: number };
    front = await startFront({
      port: await freePort(),
      gateway: '127.0.0.1:9',
      agent: `127.0.0.1:${port}`,
      dir: join(dir, 'front'),
    });
  }, 120_000);

  afterAll(async () => {
    await front?.stop();
    await agent?.close();
    await cli('rmi', '-f', image).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  const pull = (body: object) =>
    fetch(`${front.url}/api/v1/images/pull`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('without credentials: the 401 problem names the registry', async () => {
    const res = await pull({ image });
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(await res.json()).toMatchObject({ code: 'REGISTRY_UNAUTHORIZED', registry: REGISTRY.token });
  });

  it('with credentials: download progress arrives line by line before the pull ends', async () => {
    const res = await pull({ image, auth: REGISTRY_USER });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/x-ndjson');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    let reads = 0;
    const events: Record<string, unknown>[] = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      reads += 1;
      text += decoder.decode(value, { stream: true });
      let nl = text.indexOf('\n');
      while (nl >= 0) {
        const line = text.slice(0, nl).trim();
        text = text.slice(nl + 1);
        if (line) events.push(JSON.parse(line) as Record<string, unknown>);
        nl = text.indexOf('\n');
      }
    }
    const downloading = events.filter((e) => e.status === 'Downloading');
    expect(downloading.length).toBeGreaterThan(0);
    expect(downloading.some((e) => typeof e.current === 'number' && typeof e.total === 'number')).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'done', image });
    // nginx did not hold the stream back until the end: it came in several pieces.
    expect(reads).toBeGreaterThan(1);
  });
});
