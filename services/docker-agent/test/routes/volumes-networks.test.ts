import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerEngine } from '../../src/docker/engine.ts';
import { BUSYBOX, cleanup, json, makeApp, requireEngine } from '../support/helpers.ts';

const PREFIX = 'da-vn-';
const engine = await requireEngine();

describe.runIf(engine)('volumes and networks (real engine)', () => {
  const docker = engine as DockerEngine;
  let app: FastifyInstance;

  beforeAll(async () => {
    await cleanup(docker, PREFIX);
    app = await makeApp({ DOCKER_AGENT_BIND_ALLOWLIST: '/tmp/da-vn-allowed' });
  });
  afterAll(async () => {
    await app?.close();
    await cleanup(docker, PREFIX);
    docker.close();
  });

  it('volume lifecycle: create, list, inspect, in-use conflict, remove', async () => {
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/volumes',
      ...json({ name: `${PREFIX}data`, labels: { 'da.test': PREFIX } }),
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ name: `${PREFIX}data`, driver: 'local', labels: { 'da.test': PREFIX } });
    const list = await app.inject({ method: 'GET', url: `/api/v1/volumes?label=da.test=${PREFIX}` });
    expect(list.json().volumes.map((v: { name: string }) => v.name)).toEqual([`${PREFIX}data`]);
    const one = await app.inject({ method: 'GET', url: `/api/v1/volumes/${PREFIX}data` });
    expect(one.json().mountpoint).toContain(`${PREFIX}data`);

    await docker.createContainer({
      Image: BUSYBOX,
      name: `${PREFIX}user`,
      HostConfig: { Binds: [`${PREFIX}data:/d`] },
    });
    const inUse = await app.inject({ method: 'DELETE', url: `/api/v1/volumes/${PREFIX}data` });
    expect(inUse.statusCode).toBe(409);
    await docker.removeContainer(`${PREFIX}user`, { force: true, volumes: false });
    const removed = await app.inject({ method: 'DELETE', url: `/api/v1/volumes/${PREFIX}data` });
    expect(removed.json()).toMatchObject({ id: `${PREFIX}data`, action: 'remove', changed: true });
    expect((await app.inject({ method: 'GET', url: `/api/v1/volumes/${PREFIX}data` })).statusCode).toBe(404);
  });

  it('holds local-driver bind volumes to the bind policy', async () => {
    const r = await app.inject({
      method: 'POST',
      url: '/api/v1/volumes',
      ...json({ name: `${PREFIX}etc`, driverOpts: { type: 'none', o: 'bind', device: '/etc' } }),
    });
    expect(r.statusCode).toBe(403);
    expect(r.json()).toMatchObject({ rule: 'bind-mount-outside-allowlist', field: 'driverOpts.device' });
    for (const driverOpts of [
      { type: 'ext4', device: '/dev/sda1' },
      { type: 'overlay', device: 'overlay', o: 'lowerdir=/etc,upperdir=/tmp/da-vn-u,workdir=/tmp/da-vn-w' },
      { o: 'rbind', device: '/var/run//docker.sock/' },
    ]) {
      const denied = await app.inject({
        method: 'POST',
        url: '/api/v1/volumes',
        ...json({ name: `${PREFIX}host`, driverOpts }),
      });
      expect(denied.statusCode, JSON.stringify(driverOpts)).toBe(403);
      expect(denied.json().field).toMatch(/^driverOpts\.(device|o)$/);
    }
    await expect(docker.inspectVolume(`${PREFIX}host`)).rejects.toThrow();
    const hostile = await app.inject({ method: 'GET', url: '/api/v1/volumes/..%2F..' });
    expect(hostile.statusCode).toBe(400);
    expect(hostile.json().issues[0].field).toBe('params.name');
  });

  it('network lifecycle: create, duplicate 409, connect, disconnect, remove with endpoints 409', async () => {
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/networks',
      ...json({ name: `${PREFIX}net`, internal: true, labels: { 'da.test': PREFIX } }),
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ name: `${PREFIX}net`, driver: 'bridge', internal: true });
    const dup = await app.inject({ method: 'POST', url: '/api/v1/networks', ...json({ name: `${PREFIX}net` }) });
    expect(dup.statusCode).toBe(409);

    const { id } = await docker.createContainer({ Image: BUSYBOX, name: `${PREFIX}member`, Cmd: ['sleep', '60'] });
    await docker.startContainer(id);
    const connected = await app.inject({
      method: 'POST',
      url: `/api/v1/networks/${PREFIX}net/connect`,
      ...json({ container: `${PREFIX}member`, aliases: ['member'] }),
    });
    expect(connected.statusCode, connected.body).toBe(200);
    const inspected = await app.inject({ method: 'GET', url: `/api/v1/networks/${PREFIX}net` });
    expect(inspected.json().containers).toEqual([expect.objectContaining({ id, name: `${PREFIX}member` })]);
    const listed = await app.inject({ method: 'GET', url: `/api/v1/networks?label=da.test=${PREFIX}` });
    expect(listed.json().count).toBe(1);

    const busy = await app.inject({ method: 'DELETE', url: `/api/v1/networks/${PREFIX}net` });
    expect(busy.statusCode).toBe(409);
    const disconnected = await app.inject({
      method: 'POST',
      url: `/api/v1/networks/${PREFIX}net/disconnect`,
      ...json({ container: `${PREFIX}member` }),
    });
    expect(disconnected.statusCode).toBe(200);
    const notMember = await app.inject({
      method: 'POST',
      url: `/api/v1/networks/${PREFIX}net/disconnect`,
      ...json({ container: `${PREFIX}member` }),
    });
    expect(notMember.statusCode).toBe(409);
    expect(notMember.json().detail).toContain('not connected');
    const removed = await app.inject({ method: 'DELETE', url: `/api/v1/networks/${PREFIX}net` });
    expect(removed.statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: `/api/v1/networks/${PREFIX}net` })).statusCode).toBe(404);
  });

  it('refuses to remove predefined networks and rejects bad bodies', async () => {
    const bridge = await app.inject({ method: 'DELETE', url: '/api/v1/networks/bridge' });
    expect(bridge.statusCode).toBe(409);
    const bad = await app.inject({ method: 'POST', url: '/api/v1/networks', ...json({ name: 'x y', driver: 'host' }) });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().issues.map((i: { field: string }) => i.field)).toEqual(
      expect.arrayContaining(['body.name', 'body.driver']),
    );
  });
});
