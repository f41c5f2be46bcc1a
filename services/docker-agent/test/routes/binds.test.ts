import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DockerEngine } from '../../src/docker/engine.ts';
import { BUSYBOX, cleanup, json, makeApp, requireEngine } from '../support/helpers.ts';

const PREFIX = 'i10b-binds-';
const T = `${PREFIX}t-`;
const engine = await requireEngine();

describe.runIf(engine)('allowlisted binds are safe by construction (real engine)', () => {
  const docker = engine as DockerEngine;
  let app: FastifyInstance;
  let readOnly: string;
  let writable: string;
  const apps: FastifyInstance[] = [];
  const create = (body: Record<string, unknown>, on = app) =>
    on.inject({ method: 'POST', url: '/api/v1/containers', ...json({ image: BUSYBOX, ...body }) });

  beforeAll(async () => {
    await cleanup(docker, PREFIX);
    readOnly = mkdtempSync(join(tmpdir(), `${PREFIX}ro-`));
    writable = mkdtempSync(join(tmpdir(), `${PREFIX}rw-`));
    mkdirSync(join(readOnly, 'data'));
    mkdirSync(join(writable, 'data'));
    symlinkSync(join(readOnly, 'data'), join(readOnly, 'link'));
    app = await makeApp({ DOCKER_AGENT_BIND_ALLOWLIST: `${readOnly},${writable}:rw` });
  });
  afterEach(async () => {
    await cleanup(docker, T);
  });
  afterAll(async () => {
    await app?.close();
    for (const a of apps) await a.close();
    await cleanup(docker, PREFIX);
    rmSync(readOnly, { recursive: true, force: true });
    rmSync(writable, { recursive: true, force: true });
    docker.close();
  });

  it('mounts binds read-only unless their allowlist entry says :rw', async () => {
    const res = await create({
      name: `${T}ro`,
      binds: [`${readOnly}/data:/ro:rw`, `${writable}/data:/rw`],
      mounts: [
        { type: 'bind', source: `${readOnly}/data`, target: '/ro2', readOnly: false },
        { type: 'bind', source: `${writable}/data`, target: '/rw2' },
      ],
    });
    expect(res.statusCode, res.body).toBe(201);
    const info = await docker.inspectContainer(`${T}ro`);
    const rw = Object.fromEntries((info.Mounts ?? []).map((m) => [m.Destination, m.RW]));
    expect(rw).toEqual({ '/ro': false, '/rw': true, '/ro2': false, '/rw2': true });
  });

  it('refuses a symlink in the source path, even one that stays inside the allowlist', async () => {
    for (const body of [
      { binds: [`${readOnly}/link:/x`] },
      { mounts: [{ type: 'bind', source: `${readOnly}/link/`, target: '/x' }] },
    ]) {
      const res = await create({ name: `${T}link`, ...body });
      expect(res.statusCode, res.body).toBe(403);
      expect(res.json()).toMatchObject({ code: 'POLICY_DENIED', rule: 'bind-mount-symlink' });
    }
  });

  it('refuses a writable local-driver bind volume outside a :rw entry', async () => {
    const volume = (name: string, o: string, device: string) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/volumes',
        ...json({ name, driverOpts: { type: 'none', o, device } }),
      });
    const res = await volume(`${T}v1`, 'bind', `${readOnly}/data`);
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ rule: 'bind-mount-outside-allowlist', field: 'driverOpts.device' });
    expect((await volume(`${T}v2`, 'bind,ro', `${readOnly}/data`)).statusCode).toBe(201);
    expect((await volume(`${T}v3`, 'bind', `${writable}/data`)).statusCode).toBe(201);
  });

  it('in a container, takes only sources the agent has mounted from the same host path', async () => {
    const selfWithout = await docker.createContainer({ Image: BUSYBOX, name: `${PREFIX}self-bare`, Cmd: ['true'] });
    const selfWith = await docker.createContainer({
      Image: BUSYBOX,
      name: `${PREFIX}self-mounted`,
      Cmd: ['true'],
      HostConfig: { Binds: [`${readOnly}:${readOnly}`] },
    });
    const bare = await makeApp({ DOCKER_AGENT_BIND_ALLOWLIST: readOnly, DOCKER_AGENT_SELF_CONTAINER: selfWithout.id });
    const mounted = await makeApp({ DOCKER_AGENT_BIND_ALLOWLIST: readOnly, DOCKER_AGENT_SELF_CONTAINER: selfWith.id });
    apps.push(bare, mounted);
    const refused = await create({ name: `${T}in1`, binds: [`${readOnly}/data:/d`] }, bare);
    expect(refused.statusCode, refused.body).toBe(403);
    expect(refused.json()).toMatchObject({ rule: 'bind-mount-outside-allowlist', field: 'binds[0]' });
    expect(refused.json().detail).toContain('runs in a container');
    const ok = await create({ name: `${T}in2`, binds: [`${readOnly}/data:/d`] }, mounted);
    expect(ok.statusCode, ok.body).toBe(201);
  });
});
