import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerEngine } from '../../src/docker/engine.ts';
import { BUSYBOX, cleanup, json, makeApp, requireEngine } from '../support/helpers.ts';

const PREFIX = 'da-sys-';
const LABEL = `da.prune=${PREFIX}${process.pid}`;
const engine = await requireEngine();

describe.runIf(engine)('system (real engine)', () => {
  const docker = engine as DockerEngine;
  let app: FastifyInstance;

  beforeAll(async () => {
    await cleanup(docker, PREFIX);
    app = await makeApp();
  });
  afterAll(async () => {
    await app?.close();
    await cleanup(docker, PREFIX);
    docker.close();
  });

  it('reports info, version (with the negotiated API version) and disk usage', async () => {
    const info = await app.inject({ method: 'GET', url: '/api/v1/system/info' });
    expect(info.statusCode).toBe(200);
    expect(info.json()).toMatchObject({ osType: 'linux' });
    expect(info.json().images).toBeGreaterThanOrEqual(1);
    const version = await app.inject({ method: 'GET', url: '/api/v1/system/version' });
    expect(version.json().apiVersion).toMatch(/^1\.\d+$/);
    expect(version.json().negotiatedApiVersion).toBe(version.json().apiVersion);
    const df = await app.inject({ method: 'GET', url: '/api/v1/system/df' });
    expect(df.json().images.count).toBeGreaterThanOrEqual(1);
    expect(df.json().images.size).toBeGreaterThan(0);
  });

  it('answers concurrent disk-usage requests (the engine runs one at a time; they share it)', async () => {
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => app.inject({ method: 'GET', url: '/api/v1/system/df' })),
    );
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200, 200, 200, 200]);
  });

  it('prunes only what the body chooses; a dry run lists without removing; protected containers stay', async () => {
    const [key, value] = LABEL.split('=') as [string, string];
    await docker.createContainer({ Image: BUSYBOX, name: `${PREFIX}stopped`, Labels: { [key]: value } });
    await docker.createContainer({
      Image: BUSYBOX,
      name: `${PREFIX}protected`,
      Labels: { [key]: value, 'com.portone-docker-stack.protected': 'true' },
    });
    await docker.createVolume({ Name: `${PREFIX}vol`, Labels: { [key]: value } });
    await docker.createNetwork({ Name: `${PREFIX}net`, Labels: { [key]: value } });

    const dry = await app.inject({
      method: 'POST',
      url: '/api/v1/system/prune',
      ...json({ containers: true, volumes: true, networks: true, labels: [LABEL], dryRun: true }),
    });
    expect(dry.statusCode).toBe(200);
    const plan = dry.json();
    expect(plan.dryRun).toBe(true);
    expect(plan.containers.count).toBe(1);
    expect(plan.volumes.removed).toEqual([`${PREFIX}vol`]);
    expect(plan.networks.removed).toEqual([`${PREFIX}net`]);
    expect(plan.images).toBeUndefined();
    expect((await docker.inspectContainer(`${PREFIX}stopped`)).Id).toBe(plan.containers.removed[0]);
    await docker.inspectVolume(`${PREFIX}vol`);

    const real = await app.inject({
      method: 'POST',
      url: '/api/v1/system/prune',
      ...json({ containers: true, volumes: true, networks: true, labels: [LABEL] }),
    });
    expect(real.json().containers.removed).toEqual(plan.containers.removed);
    await expect(docker.inspectContainer(`${PREFIX}stopped`)).rejects.toThrow();
    await expect(docker.inspectVolume(`${PREFIX}vol`)).rejects.toThrow();
    await expect(docker.inspectNetwork(`${PREFIX}net`)).rejects.toThrow();
    expect((await docker.inspectContainer(`${PREFIX}protected`)).Name).toBe(`/${PREFIX}protected`);

    const cache = await app.inject({
      method: 'POST',
      url: '/api/v1/system/prune',
      ...json({ buildCache: true, images: true, dryRun: true }),
    });
    expect(cache.statusCode).toBe(200);
    expect(cache.json()).toHaveProperty('buildCache.count');
    expect(cache.json()).toHaveProperty('images.removed');
  });

  it('rejects a prune that chooses nothing and unknown fields', async () => {
    const nothing = await app.inject({ method: 'POST', url: '/api/v1/system/prune', ...json({ dryRun: true }) });
    expect(nothing.statusCode).toBe(400);
    expect(nothing.json().detail).toContain('choose at least one');
    const unknown = await app.inject({ method: 'POST', url: '/api/v1/system/prune', ...json({ everything: true }) });
    expect(unknown.json().issues).toContainEqual({ field: 'body.everything', message: 'unknown field' });
  });
});
