/**
 * The built server as a real process: configuration comes from the environment and the repository's
 * `.env` (through @fastify/env, the environment winning), and a bad value stops the process with a
 * message naming the variable.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type SpawnedService, spawnService } from '@repo/test-support';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

const SERVER = 'services/payment-gateway/dist/server.js';
// A workspace of its own (the developer's real .env stays out of it), started from the service's directory.
const workspace = mkdtempSync(join(tmpdir(), 'gateway-server-'));
const serviceDir = join(workspace, 'services', 'payment-gateway');
mkdirSync(serviceDir, { recursive: true });
writeFileSync(join(workspace, 'pnpm-workspace.yaml'), "packages: ['services/*']\n");
writeFileSync(
  join(workspace, '.env'),
  [
    '# what a developer keeps at the repository root',
    'GATEWAY_HOST=127.0.0.1',
    'GATEWAY_PORT=eighty',
    `DATABASE_URL=sqlite:${join(workspace, 'gateway.sqlite')}`,
    'RECONCILE_INTERVAL_SECONDS=0',
    'PORTONE_TIER=',
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

describe('payment-gateway server', () => {
  it('stops with exit code 1 and a message naming the variable of a bad value', async () => {
    const server = start(tmpdir(), { NOTIFY_CONCURRENCY: 'many', GATEWAY_PORT: '0' });
    expect(await server.exited).toBe(1);
    expect(server.output()).toMatch(/^payment-gateway: invalid configuration: NOTIFY_CONCURRENCY: /m);
    expect(server.output()).not.toMatch(/GATEWAY_PORT|listening/);
  });

  it("reads the repository root's .env when started from its own directory", async () => {
    const server = start(serviceDir, {});
    expect(await server.exited).toBe(1);
    expect(server.output()).toMatch(/GATEWAY_PORT: /);
  });

  it('lets the environment win over the .env file', async () => {
    const server = start(serviceDir, { GATEWAY_PORT: '0' });
    try {
      // GATEWAY_HOST and DATABASE_URL come from the file, the port from the environment.
      const [, url] = await server.waitFor(/Server listening at (http:\/\/127\.0\.0\.1:\d+)/);
      const health = await fetch(`${url}/ready`);
      expect(health.status).toBe(200);
    } finally {
      server.child.kill('SIGTERM');
    }
    expect(await server.exited).toBe(0);
  });
});
