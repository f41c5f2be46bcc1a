/**
 * Private registries and update checks against the real thing: Debian's docker-registry (Distribution
 * 2.8) with htpasswd auth and with token auth (the issuer in test-support signs the JWTs), the real
 * engine pushing and pulling (test/e2e/registry-pull.test.ts streams a private pull through nginx).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  eventually,
  REGISTRY,
  REGISTRY_IDENTITY_TOKEN,
  REGISTRY_NOBODY,
  REGISTRY_USER,
  requireRegistries,
  testLogStream,
} from '@repo/test-support';
import Docker from 'dockerode';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { listen, readAll, requireEngine, SOCKET, testConfig } from '../support/helpers.ts';
import { tarOf } from '../support/tar.ts';

const engine = await requireEngine();
const registries = await requireRegistries();
engine?.close();

const docker = new Docker({ socketPath: SOCKET });
const run = randomUUID().slice(0, 8);
const pushAuth = (serveraddress: string) => ({ ...REGISTRY_USER, serveraddress });

async function follow(stream: NodeJS.ReadableStream): Promise<Record<string, unknown>[]> {
  const events = await new Promise<Record<string, unknown>[]>((resolve, reject) =>
    docker.modem.followProgress(stream, (error: Error | null, out: Record<string, unknown>[]) =>
      error ? reject(error) : resolve(out),
    ),
  );
  const failed = events.find((e) => e.error);
  if (failed) throw new Error(String(failed.error));
  return events;
}

/** A local image with a layer of its own (random bytes), so a pull of it downloads something. */
async function buildImage(tag: string): Promise<string> {
  const context = await tarOf({ Dockerfile: 'FROM local/busybox:1\nCOPY blob /blob\n', blob: randomBytes(200_000) });
  await follow(await docker.buildImage(Readable.from([context]), { t: tag, rm: true }));
  return (await docker.getImage(tag).inspect()).Id;
}

/** Pushes `local` as `remote` and answers the digest the registry gave it. */
async function push(local: string, remote: string, registry: string): Promise<string> {
  const [repo, tag] = [remote.slice(0, remote.lastIndexOf(':')), remote.slice(remote.lastIndexOf(':') + 1)];
  await docker.getImage(local).tag({ repo, tag });
  const events = await follow(await docker.getImage(remote).push({ authconfig: pushAuth(registry) }));
  const digest = events.map((e) => /digest: (sha256:[0-9a-f]{64})/.exec(String(e.status))?.[1]).find(Boolean);
  if (!digest) throw new Error(`no digest in the push of ${remote}`);
  return digest;
}

const removeImage = (ref: string) =>
  docker
    .getImage(ref)
    .remove({ force: true })
    .catch(() => undefined);

describe.runIf(engine && registries)('private registries and update checks (real registries and engine)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'i14-registry-'));
  const created: string[] = [];
  const apps: FastifyInstance[] = [];

  const app = async (env: Record<string, string> = {}) => {
    const config = testConfig({ DOCKER_AGENT_HEARTBEAT_MS: '60000', ...env });
    const built = await buildApp(config, { logStream: testLogStream('docker-agent') });
    apps.push(built);
    return { app: built, auditFile: config.DOCKER_AGENT_AUDIT_FILE };
  };
  const configured = (host: string, auth: object) => ({
    DOCKER_AGENT_REGISTRY_AUTH: JSON.stringify({ [host]: auth }),
  });
  const pull = (base: string, body: object) =>
    fetch(`${base}/api/v1/images/pull`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const update = (a: FastifyInstance, image: string) =>
    a.inject({ method: 'GET', url: `/api/v1/images/${encodeURIComponent(image)}/update` });

  afterAll(async () => {
    for (const a of apps) await a.close();
    for (const ref of created) await removeImage(ref);
    rmSync(dir, { recursive: true, force: true });
  });

  describe.each([
    { kind: 'htpasswd (Basic)', host: REGISTRY.basic },
    { kind: 'token (Bearer)', host: REGISTRY.token },
  ])('$kind registry', ({ host }) => {
    const repository = `i14-app-${run}-${host.endsWith('1') ? 'basic' : 'token'}`;
    const image = `${host}/${repository}:1`;
    let first: { id: string; digest: string };
    let second: { id: string };

    beforeAll(async () => {
      const a = `i14-src-${run}-${repository}:a`;
      const b = `i14-src-${run}-${repository}:b`;
      created.push(a, b, image);
      first = { id: await buildImage(a), digest: '' };
      first.digest = await push(a, image, host);
      second = { id: await buildImage(b) };
      created.push(first.id, second.id);
      // Gone from the engine, so the pulls below download its layer for real.
      await removeImage(first.id);
    }, 120_000);

    it('a pull without credentials is 401 REGISTRY_UNAUTHORIZED naming the registry, not a 502', async () => {
      const { app: bare } = await app();
      const res = await pull(await listen(bare), { image });
      expect(res.status).toBe(401);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ code: 'REGISTRY_UNAUTHORIZED', registry: host, image });
      expect(String(body.detail)).toContain(host);
    });

    it('a pull with wrong credentials is 401 too', async () => {
      const { app: bare } = await app();
      const res = await pull(await listen(bare), {
        image,
        auth: { username: REGISTRY_USER.username, password: 'wrong-registry-password' },
      });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ code: 'REGISTRY_UNAUTHORIZED', registry: host });
    });

    it('with credentials in the request the pull streams real download progress', async () => {
      const { app: agent, auditFile } = await app();
      const res = await pull(await listen(agent), { image, auth: REGISTRY_USER });
      expect(res.headers.get('content-type')).toContain('application/x-ndjson');
      expect(res.status).toBe(200);
      const events = await readAll(res);
      expect(events.some((e) => e.status === 'Downloading' || e.status === 'Pull complete')).toBe(true);
      expect(events.at(-1)).toMatchObject({ type: 'done', image, id: first.id });
      // Audited as a pull of the image; the credentials are nowhere in the trail.
      const audit = await eventually(() => {
        const text = readFileSync(auditFile, 'utf8');
        expect(text).toContain('"image.pull"');
        return text;
      });
      expect(audit).toContain(image);
      expect(audit).not.toContain(REGISTRY_USER.password);
    });

    it('update check: 401 without credentials, false with the configured ones, true after a new push', async () => {
      const { app: bare } = await app();
      const refused = await update(bare, image);
      expect(refused.statusCode).toBe(401);
      expect(refused.json()).toMatchObject({ code: 'REGISTRY_UNAUTHORIZED', registry: host });

      const { app: agent } = await app(configured(host, REGISTRY_USER));
      const same = await update(agent, image);
      expect(same.statusCode).toBe(200);
      expect(same.json()).toMatchObject({
        image,
        local_digest: first.digest,
        remote_digest: first.digest,
        update_available: false,
      });
      expect(Date.parse(same.json().checked_at)).not.toBeNaN();

      // A new image under the same tag; the local tag stays on the first one.
      const pushed = await push(second.id, image, host);
      await docker.getImage(first.id).tag({ repo: `${host}/${repository}`, tag: '1' });
      const newer = await update(agent, image);
      expect(newer.statusCode).toBe(200);
      expect(newer.json()).toMatchObject({
        local_digest: first.digest,
        remote_digest: pushed,
        update_available: true,
      });
    });

    it('an unknown tag is a 404 naming the image', async () => {
      const { app: agent } = await app(configured(host, REGISTRY_USER));
      const res = await update(agent, `${host}/${repository}:missing`);
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ code: 'IMAGE_NOT_FOUND', registry: host });
    });

    it('compose pull and updates use the configured credentials for every image of a project', async () => {
      const { app: agent } = await app(configured(host, REGISTRY_USER));
      const project = `i14-${run}-${host.endsWith('1') ? 'basic' : 'token'}`;
      const composeFile = `services:\n  app:\n    image: ${image}\n    command: ["sleep", "1"]\n`;
      const saved = await agent.inject({
        method: 'POST',
        url: '/api/v1/compose',
        payload: { name: project, composeFile },
      });
      expect(saved.statusCode).toBe(201);
      try {
        const base = await listen(agent);
        const res = await fetch(`${base}/api/v1/compose/${project}/pull`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        });
        const events = await readAll(res);
        expect(events.at(-1), JSON.stringify(events)).toMatchObject({ type: 'exit', code: 0 });
        const checks = await agent.inject({ method: 'GET', url: `/api/v1/compose/${project}/updates` });
        expect(checks.statusCode).toBe(200);
        expect(checks.json()).toMatchObject({
          project,
          update_available: false,
          images: [{ image, update_available: false }],
        });
      } finally {
        await agent.inject({ method: 'DELETE', url: `/api/v1/compose/${project}` });
      }
    }, 90_000); // the compose CLI is slow on a loaded machine
  });

  describe('token registry specifics', () => {
    const repository = `i14-app-${run}-scoped`;
    const image = `${REGISTRY.token}/${repository}:1`;
    const scope = `repository:${repository}:pull`;
    const issued = async () =>
      (
        (await (await fetch(`http://${REGISTRY.issuer}/stats?scope=${encodeURIComponent(scope)}`)).json()) as {
          issued: number;
        }
      ).issued;

    beforeAll(async () => {
      const local = `i14-src-${run}-scoped:a`;
      created.push(local, image);
      await buildImage(local);
      await push(local, image, REGISTRY.token);
    }, 120_000);

    it('an account the issuer grants nothing is 403 REGISTRY_DENIED, for pulls and update checks', async () => {
      const { app: agent } = await app(configured(REGISTRY.token, REGISTRY_NOBODY));
      const res = await pull(await listen(agent), { image });
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ code: 'REGISTRY_DENIED', registry: REGISTRY.token });
      const check = await update(agent, image);
      expect(check.statusCode).toBe(403);
      expect(check.json()).toMatchObject({ code: 'REGISTRY_DENIED', registry: REGISTRY.token });
    });

    it("Docker's identitytoken works for pulls and update checks", async () => {
      await removeImage(image);
      const { app: agent } = await app(configured(REGISTRY.token, { identitytoken: REGISTRY_IDENTITY_TOKEN }));
      const res = await pull(await listen(agent), { image });
      expect(res.status).toBe(200);
      expect((await readAll(res)).at(-1)).toMatchObject({ type: 'done', image });
      const check = await update(agent, image);
      expect(check.statusCode).toBe(200);
      expect(check.json()).toMatchObject({ update_available: false });
    });

    it('tokens are cached per realm/service/scope: repeated checks ask the issuer once', async () => {
      const { app: agent } = await app(configured(REGISTRY.token, REGISTRY_USER));
      const before = await issued();
      const answers = await Promise.all(Array.from({ length: 5 }, () => update(agent, image)));
      expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200, 200, 200]);
      await update(agent, image);
      expect(await issued()).toBe(before + 1);
    });

    it('a token is fetched again once its expires_in has run out (by the injected clock)', async () => {
      let offsetMs = 0;
      const config = testConfig({ DOCKER_AGENT_REGISTRY_AUTH: JSON.stringify({ [REGISTRY.token]: REGISTRY_USER }) });
      const agent = await buildApp(config, {
        logStream: testLogStream('docker-agent'),
        clock: () => new Date(Date.now() + offsetMs),
      });
      apps.push(agent);
      const before = await issued();
      expect((await update(agent, image)).statusCode).toBe(200);
      expect((await update(agent, image)).statusCode).toBe(200);
      expect(await issued()).toBe(before + 1);
      offsetMs = 300_000; // the issuer's tokens live 300 s
      expect((await update(agent, image)).statusCode).toBe(200);
      expect(await issued()).toBe(before + 2);
    });
  });
});
