import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DockerEngine } from '../../src/docker/engine.ts';
import { BUSYBOX, cleanup, json, makeApp, requireEngine } from '../support/helpers.ts';

const PREFIX = 'i10b-guard-';
/** Containers a test creates through the API: removed after each test, whatever happened. */
const T = `${PREFIX}t-`;
const PROJECT = `${PREFIX}stack`;
const NET = `${PREFIX}net`;
const OTHER_NET = `${PREFIX}other`;
const VOLUME = `${PREFIX}dbdata`;
const PROTECT = 'com.portone-docker-stack.protected';
const WRITE_KEY = 'writer-key-0123456789';
const engine = await requireEngine();

describe.runIf(engine)('the guarded stack: the agent, its compose project, protected containers (real engine)', () => {
  const docker = engine as DockerEngine;
  let app: FastifyInstance;
  const asWriter = { 'x-api-key': WRITE_KEY };
  const call = (method: 'POST' | 'DELETE' | 'GET', url: string, body?: unknown) =>
    app.inject({
      method,
      url: `/api/v1${url}`,
      ...(body === undefined
        ? { headers: asWriter }
        : { headers: { ...asWriter, ...json(body).headers }, payload: json(body).payload }),
    });
  const denied = (res: { statusCode: number; json(): unknown }, rule: string, field?: string) => {
    expect(res.statusCode, JSON.stringify(res.json())).toBe(403);
    expect(res.json()).toMatchObject({ code: 'POLICY_DENIED', rule, ...(field ? { field } : {}) });
  };

  beforeAll(async () => {
    await cleanup(docker, PREFIX);
    await docker.createNetwork({ Name: NET });
    await docker.createNetwork({ Name: OTHER_NET });
    const run = async (name: string, labels: Record<string, string>, env: string[], extra: object = {}) => {
      const { id } = await docker.createContainer({
        Image: BUSYBOX,
        name,
        Cmd: ['sleep', '600'],
        Env: env,
        Labels: labels,
        ...extra,
      });
      await docker.startContainer(id);
    };
    // The agent's own container (a stand-in named by DOCKER_AGENT_SELF_CONTAINER), in a compose project.
    await run(`${PREFIX}self`, { 'com.docker.compose.project': PROJECT }, ['SELF_SECRET=agent-secret']);
    // Another service of the agent's project: a database with a named volume and a network alias.
    await run(
      `${PREFIX}db`,
      { 'com.docker.compose.project': PROJECT, 'com.docker.compose.service': 'db' },
      ['DB_PASSWORD=hunter2'],
      {
        HostConfig: { Binds: [`${VOLUME}:/data`], NetworkMode: NET },
        NetworkingConfig: { EndpointsConfig: { [NET]: { Aliases: ['mysql', `${PREFIX}alias`] } } },
      },
    );
    // A protected container outside the project.
    await run(`${PREFIX}prot`, { [PROTECT]: 'true' }, ['API_KEY=abc123']);
    app = await makeApp({ API_KEYS: `writer:write:${WRITE_KEY}`, DOCKER_AGENT_SELF_CONTAINER: `${PREFIX}self` });
  });
  afterEach(async () => {
    await cleanup(docker, T);
  });
  afterAll(async () => {
    await app?.close();
    await cleanup(docker, PREFIX);
    docker.close();
  });

  describe('reserved labels', () => {
    it.each([PROTECT, 'com.docker.compose.project', 'com.docker.compose.config-hash'])(
      'refuses %s on containers, mount volumes, volumes and networks',
      async (label) => {
        denied(
          await call('POST', '/containers', { image: BUSYBOX, name: `${T}l`, labels: { [label]: 'x' } }),
          'reserved-label',
          `labels.${label}`,
        );
        denied(
          await call('POST', '/containers', {
            image: BUSYBOX,
            name: `${T}m`,
            mounts: [{ type: 'volume', source: `${T}vol`, target: '/v', volumeOptions: { labels: { [label]: 'x' } } }],
          }),
          'reserved-label',
          `mounts[0].volumeOptions.labels.${label}`,
        );
        denied(await call('POST', '/volumes', { name: `${T}vol`, labels: { [label]: 'x' } }), 'reserved-label');
        denied(await call('POST', '/networks', { name: `${T}net`, labels: { [label]: 'x' } }), 'reserved-label');
        const containers = await docker.listContainers({ all: true, filters: { name: [T] } });
        expect(containers).toEqual([]);
      },
    );

    it('still accepts ordinary labels', async () => {
      const res = await call('POST', '/containers', { image: BUSYBOX, name: `${T}ok`, labels: { 'i10b.role': 'x' } });
      expect(res.statusCode).toBe(201);
    });
  });

  it('never shows the environment of the agent, its project or protected containers, even to write keys', async () => {
    for (const [name, secret] of [
      ['self', 'agent-secret'],
      ['db', 'hunter2'],
      ['prot', 'abc123'],
    ] as const) {
      const res = await call('GET', `/containers/${PREFIX}${name}`);
      expect(res.statusCode).toBe(200);
      expect(res.body).not.toContain(secret);
      expect(res.json().config.env.some((e: string) => e.endsWith('=[redacted]'))).toBe(true);
    }
    await call('POST', '/containers', { image: BUSYBOX, name: `${T}plain`, env: { PLAIN: 'visible' } });
    expect((await call('GET', `/containers/${T}plain`)).json().config.env).toContain('PLAIN=visible');
  });

  it("refuses stopping or removing a container of the agent's own compose project", async () => {
    denied(await call('POST', `/containers/${PREFIX}db/stop`), 'agent-stack', 'id');
    denied(await call('DELETE', `/containers/${PREFIX}db?force=true`), 'agent-stack', 'id');
  });

  it("refuses sharing the namespaces of a container of the agent's own compose project", async () => {
    for (const mode of ['networkMode', 'pidMode', 'ipcMode']) {
      const res = await call('POST', '/containers', {
        image: BUSYBOX,
        name: `${T}ns`,
        [mode]: `container:${PREFIX}db`,
      });
      denied(res, 'protected-container', mode);
    }
  });

  it("never prunes a stopped container of the agent's own compose project", async () => {
    const label = { 'i10b.prune': `${process.pid}` };
    await docker.createContainer({
      Image: BUSYBOX,
      name: `${PREFIX}oneoff`,
      Labels: { ...label, 'com.docker.compose.project': PROJECT },
    });
    await docker.createContainer({ Image: BUSYBOX, name: `${T}stopped`, Labels: label });
    const body = { containers: true, labels: [`i10b.prune=${process.pid}`] };
    const dry = await call('POST', '/system/prune', { ...body, dryRun: true });
    expect(dry.json().containers.count).toBe(1);
    const real = await call('POST', '/system/prune', body);
    expect(real.statusCode).toBe(200);
    expect(real.json().containers.removed).toEqual(dry.json().containers.removed);
    await expect(docker.inspectContainer(`${PREFIX}oneoff`)).resolves.toBeTruthy();
    await expect(docker.inspectContainer(`${T}stopped`)).rejects.toThrow();
  });

  it('refuses mounting or removing a named volume a guarded container uses', async () => {
    denied(
      await call('POST', '/containers', { image: BUSYBOX, name: `${T}v1`, binds: [`${VOLUME}:/steal`] }),
      'guarded-volume',
      'binds[0]',
    );
    denied(
      await call('POST', '/containers', {
        image: BUSYBOX,
        name: `${T}v2`,
        mounts: [{ type: 'volume', source: VOLUME, target: '/steal' }],
      }),
      'guarded-volume',
      'mounts[0].source',
    );
    denied(await call('DELETE', `/volumes/${VOLUME}?force=true`), 'guarded-volume', 'name');
  });

  it('refuses connecting or disconnecting guarded containers', async () => {
    denied(
      await call('POST', `/networks/${OTHER_NET}/connect`, { container: `${PREFIX}db` }),
      'agent-stack',
      'container',
    );
    denied(
      await call('POST', `/networks/${OTHER_NET}/connect`, { container: `${PREFIX}prot` }),
      'protected-container',
      'container',
    );
    denied(
      await call('POST', `/networks/${NET}/disconnect`, { container: `${PREFIX}db`, force: true }),
      'agent-stack',
      'container',
    );
  });

  it('refuses joining a guarded network under a name a guarded container answers to', async () => {
    expect((await call('POST', '/containers', { image: BUSYBOX, name: `${T}joiner` })).statusCode).toBe(201);
    denied(
      await call('POST', `/networks/${NET}/connect`, { container: `${T}joiner`, aliases: ['MySQL'] }),
      'guarded-network',
      'aliases',
    );
    denied(
      await call('POST', `/networks/${NET}/connect`, { container: `${T}joiner`, aliases: ['db'] }),
      'guarded-network',
      'aliases',
    );
    denied(
      await call('POST', '/containers', { image: BUSYBOX, name: `${PREFIX}alias`, networkMode: NET }),
      'guarded-network',
      'name',
    );
    // An ordinary name on the same network is an ordinary container.
    const ok = await call('POST', `/networks/${NET}/connect`, { container: `${T}joiner`, aliases: ['cache'] });
    expect(ok.statusCode).toBe(200);
    await call('POST', `/networks/${NET}/disconnect`, { container: `${T}joiner` });
  });

  it('disconnects a created (never started) container, as Docker allows', async () => {
    const created = await call('POST', '/containers', { image: BUSYBOX, name: `${T}created`, networkMode: OTHER_NET });
    expect(created.statusCode).toBe(201);
    const res = await call('POST', `/networks/${OTHER_NET}/disconnect`, { container: `${T}created` });
    expect(res.statusCode, res.body).toBe(200);
    const again = await call('POST', `/networks/${OTHER_NET}/disconnect`, { container: `${T}created` });
    expect(again.statusCode).toBe(409);
  });
});
