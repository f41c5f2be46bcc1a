/**
 * The built server of a service as a real process: configuration comes from the environment and the
 * repository's `.env` (through @fastify/env, the environment winning), and a bad value stops the
 * process with a message naming the variable. Both services run this same suite on their own server.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type SpawnedService, spawnService } from './process.ts';

export interface ServerConfigSuite {
  /** The service's directory under services/ and the name its messages start with. */
  service: string;
  /** The variable its listening port comes from; the `.env` gives it a bad value the environment fixes. */
  portVariable: string;
  /** The rest of the root `.env` (its host on loopback, its store or engine), given the workspace. */
  envFile: (workspace: string) => string[];
  /** A variable given a bad value through the environment. */
  bad: { variable: string; value: string };
  /** Where the service serves its OpenAPI document and UI. */
  docsPrefix: string;
}

export function describeServerConfig({ service, portVariable, envFile, bad, docsPrefix }: ServerConfigSuite): void {
  const script = `services/${service}/dist/server.js`;
  // A workspace of its own (the developer's real .env stays out of it), started from the service's directory.
  const workspace = mkdtempSync(join(tmpdir(), `${service}-server-`));
  const serviceDir = join(workspace, 'services', service);
  mkdirSync(serviceDir, { recursive: true });
  writeFileSync(join(workspace, 'pnpm-workspace.yaml'), "packages: ['services/*']\n");
  const lines = ['# what a developer keeps at the repository root', `${portVariable}=eighty`, ...envFile(workspace)];
  writeFileSync(join(workspace, '.env'), `${lines.join('\n')}\n`);
  afterAll(() => rmSync(workspace, { recursive: true, force: true }));
  const started: SpawnedService[] = [];
  afterEach(() => {
    for (const server of started.splice(0)) server.child.kill('SIGKILL');
  });
  const start = (cwd: string, env: Record<string, string>) => {
    const server = spawnService(script, { cwd, env });
    started.push(server);
    return server;
  };

  describe(`${service} server`, () => {
    it('stops with exit code 1 and a message naming the variable of a bad value', async () => {
      const server = start(tmpdir(), { [bad.variable]: bad.value, [portVariable]: '0' });
      expect(await server.exited).toBe(1);
      expect(server.output()).toMatch(new RegExp(`^${service}: invalid configuration: ${bad.variable}: `, 'm'));
      expect(server.output()).not.toMatch(new RegExp(`${portVariable}|listening`));
    });

    it("reads the repository root's .env when started from its own directory", async () => {
      const server = start(serviceDir, {});
      expect(await server.exited).toBe(1);
      expect(server.output()).toMatch(new RegExp(`${portVariable}: `));
    });

    it('lets the environment win over the .env file, and serves its docs UI from the build', async () => {
      const server = start(serviceDir, { [portVariable]: '0' });
      try {
        // The host and the rest come from the file, the port from the environment.
        const [, url] = await server.waitFor(/Server listening at (http:\/\/127\.0\.0\.1:\d+)/);
        const health = await fetch(`${url}/ready`);
        expect(health.status).toBe(200);
        // The build is a bundle (scripts/build-service.ts): the docs UI's files come from its own copy.
        for (const [path, type] of [
          ['/json', 'application/json'],
          ['/', 'text/html'],
          ['/static/swagger-ui-bundle.js', 'application/javascript'],
          ['/static/logo.svg', 'image/svg+xml'],
        ]) {
          const res = await fetch(url + docsPrefix + path);
          expect({ path, status: res.status, type: res.headers.get('content-type')?.split(';')[0] }).toEqual({
            path,
            status: 200,
            type,
          });
        }
      } finally {
        server.child.kill('SIGTERM');
      }
      expect(await server.exited).toBe(0);
    });
  });
}
