/**
 * The built server as a real process: configuration comes from the environment and the repository's
 * `.env` (through @fastify/env, the environment winning), and a bad value stops the process with a
 * message naming the variable.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dockerSocket, type SpawnedService, spawnService } from '@repo/test-support';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

const SERVER = 'services/docker-agent/dist/server.js';
// A workspace of its own (the developer's real .env stays out of it), started from the service's directory.
const workspace = mkdtempSync(join(tmpdir(), 'agent-server-'));
const serviceDir = join(workspace, 'services', 'docker-agent');
mkdirSync(serviceDir, { recursive: true });
writeFileSync(join(workspace, 'pnpm-workspace.yaml'), "packages: ['services/*']\n");
writeFileSync(
  join(workspace, '.env'),
  [
    '# what a developer keeps at the repository root',
    'DOCKER_AGENT_HOST=127.0.0.1',
    'DOCKER_AGENT_PORT=eighty',
    `DOCKER_SOCKET=${dockerSocket()}`,
    `DOCKER_AGENT_AUDIT_FILE=${join(workspace, 'audit.jsonl')}`,
    `DOCKER_AGENT_COMPOSE_DIR=${join(workspace, 'compose')}`,
    'DOCKER_AGENT_SELF_CONTAINER=',
    '',
  ].join('\n'),
);
afterAll(() => rmSync(workspace, { recursive: true, force: true }));
const started: SpawnedService[] = [];
afterEach(() => {
  for (const server of started.splice(0)) server.child.kill('SIGKILL');
});
const start = (cwd: string, env: Record<string, string>) => {
  const server = spawnService(SERVER, { cwd, env });
  started.push(server);
  return server;
};

describe('docker-agent server', () => {
  it('stops with exit code 1 and a message naming the variable of a bad value', async () => {
    const server = start(tmpdir(), { DOCKER_AGENT_MAX_STREAMS: 'many', DOCKER_AGENT_PORT: '0' });
    expect(await server.exited).toBe(1);
    expect(server.output()).toMatch(/^docker-agent: invalid configuration: DOCKER_AGENT_MAX_STREAMS: /m);
    expect(server.output()).not.toMatch(/DOCKER_AGENT_PORT|listening/);
  });

  it("reads the repository root's .env when started from its own directory", async () => {
    const server = start(serviceDir, {});
    expect(await server.exited).toBe(1);
    expect(server.output()).toMatch(/DOCKER_AGENT_PORT: /);
  });

  it('lets the environment win over the .env file', async () => {
    const server = start(serviceDir, { DOCKER_AGENT_PORT: '0' });
    try {
      // DOCKER_AGENT_HOST and DOCKER_SOCKET come from the file, the port from the environment.
      const [, url] = await server.waitFor(/Server listening at (http:\/\/127\.0\.0\.1:\d+)/);
      const health = await fetch(`${url}/ready`);
      expect(health.status).toBe(200);
    } finally {
      server.child.kill('SIGTERM');
    }
    expect(await server.exited).toBe(0);
  });
});
