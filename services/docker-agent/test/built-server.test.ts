/**
 * The built agent (`dist/server.js`, one esbuild bundle: scripts/build-service.ts) loads what it
 * imports on first use as the sources do. The rest of the suite runs the sources; a bundle can
 * differ where a package is imported with `import()` (a split-off chunk of a CommonJS package once
 * exported only `default`, and the compose routes found no `parse` in yaml). Each request below goes
 * through one such import and ends at a policy refusal, so nothing is created.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dockerSocket, type SpawnedService, spawnService } from '@repo/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tarOf } from './support/tar.ts';

const KEY = 'built-server-write-key-0123456789';

describe('the built docker-agent', () => {
  const workspace = mkdtempSync(join(tmpdir(), 'agent-built-'));
  let server: SpawnedService;
  let url: string;
  const post = (path: string, body: Buffer | string, type: string) =>
    fetch(url + path, { method: 'POST', headers: { 'x-api-key': KEY, 'content-type': type }, body });

  beforeAll(async () => {
    server = spawnService('services/docker-agent/dist/server.js', {
      cwd: workspace,
      env: {
        API_KEYS: `built:write:${KEY}`,
        DOCKER_AGENT_HOST: '127.0.0.1',
        DOCKER_AGENT_PORT: '0',
        DOCKER_SOCKET: dockerSocket(),
        DOCKER_AGENT_AUDIT_FILE: join(workspace, 'audit.jsonl'),
        DOCKER_AGENT_COMPOSE_DIR: join(workspace, 'compose'),
        DOCKER_AGENT_SELF_CONTAINER: '',
        DOCKER_AGENT_IMAGE_ALLOWLIST: 'local/built-server-allowed',
      },
    });
    [, url = ''] = await server.waitFor(/Server listening at (http:\/\/127\.0\.0\.1:\d+)/);
  });
  afterAll(async () => {
    server?.child.kill('SIGTERM');
    await server?.exited;
    rmSync(workspace, { recursive: true, force: true });
  });

  it('reads a compose file with yaml (both of its imports) before refusing an include', async () => {
    const composeFile = 'services:\n  idle:\n    image: local/busybox:1\ninclude:\n  - other.yml\n';
    const res = await post(
      '/api/v1/compose',
      JSON.stringify({ name: 'built-server', composeFile }),
      'application/json',
    );
    const body = await res.text();
    expect({ status: res.status, body: JSON.parse(body) }, body).toMatchObject({
      status: 403,
      body: { code: 'POLICY_DENIED', rule: 'compose-include' },
    });
  });

  it('reads a build context (tar-stream) and its Dockerfile (dockerfile-ast) before refusing the base image', async () => {
    const context = await tarOf({ Dockerfile: 'FROM local/built-server-other:1\n' });
    const res = await post('/api/v1/images/build?t=local/built-server-allowed:1', context, 'application/x-tar');
    const body = await res.text();
    expect({ status: res.status, body: JSON.parse(body) }, body).toMatchObject({
      status: 403,
      body: { code: 'POLICY_DENIED', rule: 'image-not-allowed', field: 'dockerfile:Dockerfile:1' },
    });
  });
});
