import { mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, testLogStream } from '@repo/test-support';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import type { DockerEngine } from '../../src/docker/engine.ts';
import { BUSYBOX, buildOwnImage, cleanup, json, makeApp, requireEngine, testConfig } from '../support/helpers.ts';

const PREFIX = 'da-ctr-';
const engine = await requireEngine();

const READ_KEY = 'reader-key-0123456789';
const WRITE_KEY = 'writer-key-0123456789';

describe.runIf(engine)('containers (real engine)', () => {
  const docker = engine as DockerEngine;
  let app: FastifyInstance;
  let allowed: string;
  let auditFile: string;
  const asWriter = { 'x-api-key': WRITE_KEY };
  const asReader = { 'x-api-key': READ_KEY };

  const create = (body: Record<string, unknown>, headers = asWriter) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/containers',
      headers: { ...headers, ...json(body).headers },
      payload: json(body).payload,
    });
  const act = (id: string, action: string, headers = asWriter) =>
    app.inject({ method: 'POST', url: `/api/v1/containers/${id}/${action}`, headers });

  beforeAll(async () => {
    await cleanup(docker, PREFIX);
    allowed = mkdtempSync(join(tmpdir(), 'da-ctr-allowed-'));
    mkdirSync(join(allowed, 'data'));
    symlinkSync('/etc', join(allowed, 'escape'));
    const config = testConfig({
      API_KEYS: `reader:read:${READ_KEY},writer:write:${WRITE_KEY}`,
      DOCKER_AGENT_BIND_ALLOWLIST: `${allowed},/var/run`,
      DOCKER_AGENT_SELF_CONTAINER: `${PREFIX}self`,
    });
    auditFile = config.DOCKER_AGENT_AUDIT_FILE;
    // The "agent's own container" for self-protection: a stand-in named by DOCKER_AGENT_SELF_CONTAINER.
    // It has the allowlisted directory at the same path, as a containerised agent must (see the README).
    await docker.createContainer({
      Image: BUSYBOX,
      name: `${PREFIX}self`,
      Cmd: ['sleep', '60'],
      HostConfig: { Binds: [`${allowed}:${allowed}`] },
    });
    app = await buildApp(config, { logStream: testLogStream('docker-agent') });
  });
  afterAll(async () => {
    await app?.close();
    await cleanup(docker, PREFIX);
    docker.close();
  });

  it('runs the full lifecycle: create, inspect, start, stop by name, restart, remove', async () => {
    const created = await create({
      image: BUSYBOX,
      name: `${PREFIX}life`,
      cmd: ['sh', '-c', 'echo to-stdout; echo to-stderr >&2; sleep 60'],
      env: { GREETING: 'hello', SECRET_TOKEN: 's3cret' },
      labels: { 'com.example.test': PREFIX },
      restartPolicy: { name: 'on-failure', maximumRetryCount: 2 },
      memory: '64m',
      cpus: 0.5,
      ports: [{ container: 9000, protocol: 'udp' }],
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ name: `${PREFIX}life`, image: BUSYBOX, started: false });

    const inspected = await app.inject({ method: 'GET', url: `/api/v1/containers/${PREFIX}life`, headers: asWriter });
    expect(inspected.statusCode).toBe(200);
    const detail = inspected.json();
    expect(detail.state.status).toBe('created');
    expect(detail.config.env).toContain('SECRET_TOKEN=s3cret');
    expect(detail.hostConfig).toMatchObject({
      memory: 64 * 1024 * 1024,
      nanoCpus: 500_000_000,
      restartPolicy: { name: 'on-failure', maximumRetryCount: 2 },
    });
    expect(detail.config.labels['com.example.test']).toBe(PREFIX);
    const asRead = await app.inject({ method: 'GET', url: `/api/v1/containers/${PREFIX}life`, headers: asReader });
    expect(asRead.json().config.env).toContain('SECRET_TOKEN=[redacted]');

    const started = await act(`${PREFIX}life`, 'start');
    expect(started.json()).toMatchObject({ action: 'start', changed: true });
    const again = await act(`${PREFIX}life`, 'start');
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ changed: false, message: 'container already started' });

    const logs = await eventually(async () => {
      const r = await app.inject({
        method: 'GET',
        url: `/api/v1/containers/${PREFIX}life/logs?timestamps=true`,
        headers: asReader,
      });
      expect(r.json().lines).toHaveLength(2);
      return r.json().lines as { stream: string; line: string; ts?: string }[];
    });
    expect(logs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ stream: 'stdout', line: 'to-stdout' }),
        expect.objectContaining({ stream: 'stderr', line: 'to-stderr' }),
      ]),
    );
    expect(logs[0]?.ts).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    const onlyErr = await app.inject({
      method: 'GET',
      url: `/api/v1/containers/${PREFIX}life/logs?stdout=false&tail=10`,
      headers: asReader,
    });
    expect(onlyErr.json().lines).toEqual([{ stream: 'stderr', line: 'to-stderr' }]);

    const stats = await app.inject({ method: 'GET', url: `/api/v1/containers/${PREFIX}life/stats`, headers: asReader });
    expect(stats.statusCode).toBe(200);
    expect(stats.json()).toMatchObject({ name: `${PREFIX}life`, running: true, memory: { limit: 64 * 1024 * 1024 } });
    expect(stats.json().memory.usage).toBeGreaterThan(0);
    expect(stats.json().pids).toBeGreaterThanOrEqual(1);
    expect(typeof stats.json().cpu.percent).toBe('number');

    const running = await app.inject({ method: 'DELETE', url: `/api/v1/containers/${PREFIX}life`, headers: asWriter });
    expect(running.statusCode).toBe(409);
    expect(running.json().code).toBe('CONFLICT');

    const stopped = await act(`${PREFIX}life`, 'stop?t=0');
    expect(stopped.json()).toMatchObject({ action: 'stop', changed: true });
    const stoppedAgain = await act(`${PREFIX}life`, 'stop');
    expect(stoppedAgain.statusCode).toBe(200);
    expect(stoppedAgain.json()).toMatchObject({ changed: false, message: 'container already stopped' });
    const restarted = await act(`${PREFIX}life`, 'restart?t=0');
    expect(restarted.json()).toMatchObject({ action: 'restart', changed: true });
    expect((await docker.inspectContainer(`${PREFIX}life`)).State.Running).toBe(true);

    const removed = await app.inject({
      method: 'DELETE',
      url: `/api/v1/containers/${PREFIX}life?force=true`,
      headers: asWriter,
    });
    expect(removed.statusCode).toBe(200);
    const gone = await app.inject({ method: 'GET', url: `/api/v1/containers/${PREFIX}life`, headers: asReader });
    expect(gone.statusCode).toBe(404);
    expect(gone.json().detail).toContain(`${PREFIX}life`);
  });

  it('lists all containers by default, running only with all=false, filtered by label and name', async () => {
    await create({ image: BUSYBOX, name: `${PREFIX}listed`, labels: { 'da.list': 'yes' } });
    const all = await app.inject({ method: 'GET', url: '/api/v1/containers?label=da.list=yes', headers: asReader });
    expect(all.json().containers.map((c: { name: string }) => c.name)).toEqual([`${PREFIX}listed`]);
    expect(all.json().containers[0]).toMatchObject({ state: 'created', labels: { 'da.list': 'yes' } });
    const runningOnly = await app.inject({
      method: 'GET',
      url: '/api/v1/containers?all=false&label=da.list',
      headers: asReader,
    });
    expect(runningOnly.json().count).toBe(0);
    const byName = await app.inject({
      method: 'GET',
      url: `/api/v1/containers?name=${PREFIX}listed&status=created`,
      headers: asReader,
    });
    expect(byName.json().count).toBe(1);
    const badStatus = await app.inject({ method: 'GET', url: '/api/v1/containers?status=zombie', headers: asReader });
    expect(badStatus.statusCode).toBe(400);
    expect(badStatus.json().issues[0].field).toBe('querystring.status');
  });

  it("answers the seed's examples: create with ports 8080:80 (honest 404 for a missing image), stop by name", async () => {
    // The seed's own nginx:latest/my-nginx run verbatim in the end-to-end test, which builds a stand-in
    // nginx:latest on this engine; a name of this file's keeps the two apart when they run in parallel.
    const absent = `local/${PREFIX}nginx:latest`;
    const nginx = await create({ image: absent, name: `${PREFIX}seed-nginx`, ports: ['8080:80'] });
    expect(nginx.statusCode).toBe(404);
    expect(nginx.json()).toMatchObject({ code: 'IMAGE_NOT_FOUND', image: absent });
    expect(nginx.json().detail).toContain(absent);

    const seedLike = await create({ image: BUSYBOX, name: `${PREFIX}my-nginx`, ports: ['8080:80'] });
    expect(seedLike.statusCode).toBe(201);
    const detail = (
      await app.inject({ method: 'GET', url: `/api/v1/containers/${PREFIX}my-nginx`, headers: asReader })
    ).json();
    expect(detail.hostConfig.portBindings).toEqual({ '80/tcp': [{ hostIp: '', hostPort: '8080' }] });
    const inspected = await docker.inspectContainer(`${PREFIX}my-nginx`);
    expect(inspected.HostConfig.PortBindings).toEqual({ '80/tcp': [{ HostIp: '', HostPort: '8080' }] });
    const stop = await act(`${PREFIX}my-nginx`, 'stop');
    expect(stop.statusCode).toBe(200);
    expect(stop.json()).toMatchObject({ changed: false, message: 'container already stopped' });
  });

  it('maps Docker answers honestly: unknown id 404, name in use 409', async () => {
    const unknown = await act('da-ctr-does-not-exist', 'start');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ code: 'NOT_FOUND' });
    await create({ image: BUSYBOX, name: `${PREFIX}dup` });
    const dup = await create({ image: BUSYBOX, name: `${PREFIX}dup` });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().detail).toContain('already in use');
  });

  it('rejects hostile ids and names, malformed and unknown body fields with a 400 naming the field', async () => {
    for (const bad of ['..%2F..%2Fetc', 'a%20b', 'x%01y', 'a'.repeat(200), '.hidden']) {
      const r = await app.inject({ method: 'GET', url: `/api/v1/containers/${bad}`, headers: asReader });
      expect(r.statusCode, bad).toBe(400);
      expect(r.json().issues[0].field).toBe('params.id');
    }
    const badName = await create({ image: BUSYBOX, name: '../etc' });
    expect(badName.statusCode).toBe(400);
    expect(badName.json().issues.map((i: { field: string }) => i.field)).toContain('body.name');
    const unknownField = await create({ image: BUSYBOX, hostConfig: { Privileged: true } });
    expect(unknownField.statusCode).toBe(400);
    expect(unknownField.json().issues).toContainEqual({ field: 'body.hostConfig', message: 'unknown field' });
    const badPort = await create({ image: BUSYBOX, ports: ['eighty:80'] });
    expect(badPort.json().issues[0].field).toMatch(/^body\.ports\.0/);
    const relativeBind = await create({ image: BUSYBOX, binds: ['./data:/data'] });
    expect(relativeBind.statusCode).toBe(400);
    const malformed = await app.inject({
      method: 'POST',
      url: '/api/v1/containers',
      headers: { ...asWriter, 'content-type': 'application/json' },
      payload: '{"image": ',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.headers['content-type']).toContain('application/problem+json');
  });

  describe('policy', () => {
    const denied = async (body: Record<string, unknown>, rule: string, field: string) => {
      const r = await create({ image: BUSYBOX, ...body });
      expect(r.statusCode, JSON.stringify(r.json())).toBe(403);
      expect(r.json()).toMatchObject({ code: 'POLICY_DENIED', rule, field });
      return r.json();
    };

    it('denies privileged, cap_add, host network/pid/ipc and devices', async () => {
      await denied({ privileged: true }, 'privileged', 'privileged');
      await denied({ capAdd: ['SYS_ADMIN'] }, 'cap-add', 'capAdd');
      await denied({ networkMode: 'host' }, 'host-network-mode', 'networkMode');
      await denied({ pidMode: 'host' }, 'host-pid-mode', 'pidMode');
      await denied({ ipcMode: 'host' }, 'host-ipc-mode', 'ipcMode');
      await denied({ devices: [{ pathOnHost: '/dev/kmsg' }] }, 'devices', 'devices');
    });

    it("shares another container's namespace only when that cannot reach the host, the agent or a protected one", async () => {
      // Made on the engine directly, as anyone with the socket could: one on the host network, one
      // that joins it (a chain), one plain.
      await docker.createContainer({
        Image: BUSYBOX,
        name: `${PREFIX}hostnet`,
        Cmd: ['sleep', '60'],
        HostConfig: { NetworkMode: 'host', PidMode: 'host' },
      });
      await docker.createContainer({
        Image: BUSYBOX,
        name: `${PREFIX}chain`,
        Cmd: ['sleep', '60'],
        HostConfig: { NetworkMode: `container:${PREFIX}hostnet` },
      });
      await docker.createContainer({ Image: BUSYBOX, name: `${PREFIX}plain`, Cmd: ['sleep', '60'] });

      await denied({ networkMode: `container:${PREFIX}hostnet` }, 'host-network-mode', 'networkMode');
      await denied({ pidMode: `container:${PREFIX}hostnet` }, 'host-pid-mode', 'pidMode');
      await denied({ networkMode: `container:${PREFIX}chain` }, 'host-network-mode', 'networkMode');
      await denied({ networkMode: `container:${PREFIX}self` }, 'agent-self-protection', 'networkMode');
      await denied({ networkMode: 'container:no-such-container' }, 'host-network-mode', 'networkMode');
      await docker.createContainer({
        Image: BUSYBOX,
        name: `${PREFIX}guarded`,
        Cmd: ['sleep', '60'],
        Labels: { 'com.portone-docker-stack.protected': 'true' },
      });
      await denied({ ipcMode: `container:${PREFIX}guarded` }, 'protected-container', 'ipcMode');

      const joined = await create({
        image: BUSYBOX,
        name: `${PREFIX}joins-plain`,
        networkMode: `container:${PREFIX}plain`,
      });
      expect(joined.statusCode, joined.body).toBe(201);
      const info = await docker.inspectContainer(`${PREFIX}joins-plain`);
      expect(info.HostConfig.NetworkMode).toBe(`container:${(await docker.inspectContainer(`${PREFIX}plain`)).Id}`);
    });

    it('denies bind mounts outside the allowlist via binds and mounts, .. and symlink escapes', async () => {
      await denied({ binds: ['/etc:/host-etc:ro'] }, 'bind-mount-outside-allowlist', 'binds[0]');
      await denied({ binds: [`${allowed}/data:/ok`, '/root:/r'] }, 'bind-mount-outside-allowlist', 'binds[1]');
      await denied(
        { mounts: [{ type: 'bind', source: '/etc', target: '/host-etc' }] },
        'bind-mount-outside-allowlist',
        'mounts[0].source',
      );
      const dotdot = await denied(
        { binds: [`${allowed}/data/../../../etc:/x`] },
        'bind-mount-outside-allowlist',
        'binds[0]',
      );
      expect(dotdot.detail).toContain('resolves to "/etc"');
      const symlink = await denied({ binds: [`${allowed}/escape/ssl:/x`] }, 'bind-mount-outside-allowlist', 'binds[0]');
      expect(symlink.detail).toContain('/etc/ssl');
      await denied(
        {
          mounts: [
            {
              type: 'volume',
              source: `${PREFIX}sneaky`,
              target: '/x',
              volumeOptions: { driverOptions: { type: 'none', o: 'bind', device: '/etc' } },
            },
          ],
        },
        'bind-mount-outside-allowlist',
        'mounts[0].volumeOptions.driverOptions.device',
      );
    });

    it('always denies the Docker socket, even when its directory is allowlisted', async () => {
      await denied({ binds: ['/var/run/docker.sock:/var/run/docker.sock'] }, 'docker-socket-mount', 'binds[0]');
      await denied({ binds: ['/run/docker.sock:/s'] }, 'docker-socket-mount', 'binds[0]');
      await denied({ binds: ['/var/run:/host-run'] }, 'docker-socket-mount', 'binds[0]');
      await denied(
        { mounts: [{ type: 'bind', source: '/var/run/../run/docker.sock', target: '/s' }] },
        'docker-socket-mount',
        'mounts[0].source',
      );
    });

    it('finds the socket behind Binds and Mounts spellings, symlinks, /proc and volume options', async () => {
      symlinkSync('/var/run/docker.sock', join(allowed, 'sock-link'));
      const socket = 'docker-socket-mount';
      for (const source of [
        '/var/run/docker.sock/',
        '/var/run//docker.sock',
        '/var/run/./docker.sock',
        '/run/docker.sock',
        `${allowed}/sock-link`,
        `${allowed}/data/../sock-link`,
      ]) {
        await denied({ binds: [`${source}:/s`] }, socket, 'binds[0]');
        await denied({ mounts: [{ type: 'bind', source, target: '/s' }] }, socket, 'mounts[0].source');
      }
      await denied({ binds: ['/proc/self/cwd:/x'] }, 'bind-mount-outside-allowlist', 'binds[0]');
      await denied(
        {
          mounts: [
            {
              type: 'volume',
              source: `${PREFIX}disk`,
              target: '/x',
              volumeOptions: { driverOptions: { type: 'ext4', device: '/dev/sda1' } },
            },
          ],
        },
        'bind-mount-outside-allowlist',
        'mounts[0].volumeOptions.driverOptions.device',
      );
      await expect(docker.inspectVolume(`${PREFIX}disk`)).rejects.toThrow();
    });

    it('allows binds inside the allowlist and named volumes', async () => {
      const ok = await create({
        image: BUSYBOX,
        name: `${PREFIX}bound`,
        binds: [`${allowed}/data:/data:ro`, `${PREFIX}vol:/vol`, `${allowed}/created-by-docker:/new`],
        mounts: [{ type: 'bind', source: `${allowed}/data`, target: '/data2' }],
      });
      expect(ok.statusCode, ok.body).toBe(201);
    });

    it('enforces the image allowlist by name, also for an image given by id', async () => {
      // An image of our own: its id carries no tag but ours, whatever else local/busybox:1 is tagged as.
      const own = `local/${PREFIX}own:1`;
      const id = await buildOwnImage(own);
      const strict = await makeApp({ DOCKER_AGENT_IMAGE_ALLOWLIST: 'docker.io/library/,registry.example/' });
      const local = await makeApp({ DOCKER_AGENT_IMAGE_ALLOWLIST: 'local/' });
      try {
        const r = await strict.inject({ method: 'POST', url: '/api/v1/containers', ...json({ image: own }) });
        expect(r.statusCode).toBe(403);
        expect(r.json()).toMatchObject({ rule: 'image-not-allowed', field: 'image' });
        const strictById = await strict.inject({ method: 'POST', url: '/api/v1/containers', ...json({ image: id }) });
        expect(strictById.statusCode).toBe(403);
        const byId = await local.inject({
          method: 'POST',
          url: '/api/v1/containers',
          ...json({ image: id, name: `${PREFIX}by-id` }),
        });
        expect(byId.statusCode, byId.body).toBe(201);
      } finally {
        await strict.close();
        await local.close();
        await docker.removeContainer(`${PREFIX}by-id`, { force: true, volumes: true }).catch(() => undefined);
        await docker.removeImage(own, { force: true, noprune: false }).catch(() => undefined);
      }
    });
  });

  it('protects its own container and containers with the protect label (403 naming the rule)', async () => {
    for (const action of ['stop', 'restart']) {
      const self = await act(`${PREFIX}self`, action);
      expect(self.statusCode).toBe(403);
      expect(self.json()).toMatchObject({ code: 'POLICY_DENIED', rule: 'agent-self-protection' });
    }
    const selfRemove = await app.inject({
      method: 'DELETE',
      url: `/api/v1/containers/${PREFIX}self?force=true`,
      headers: asWriter,
    });
    expect(selfRemove.json().rule).toBe('agent-self-protection');

    await docker.createContainer({
      Image: BUSYBOX,
      name: `${PREFIX}protected`,
      Cmd: ['sleep', '60'],
      Labels: { 'com.portone-docker-stack.protected': 'true' },
    });
    expect((await act(`${PREFIX}protected`, 'start')).statusCode).toBe(200);
    const stop = await act(`${PREFIX}protected`, 'stop');
    expect(stop.statusCode).toBe(403);
    expect(stop.json()).toMatchObject({ rule: 'protected-container' });
    const remove = await app.inject({
      method: 'DELETE',
      url: `/api/v1/containers/${PREFIX}protected?force=true`,
      headers: asWriter,
    });
    expect(remove.statusCode).toBe(403);
    expect((await docker.inspectContainer(`${PREFIX}protected`)).State.Running).toBe(true);
  });

  it('refuses writes with a read-only key and calls without a key', async () => {
    const list = await app.inject({ method: 'GET', url: '/api/v1/containers', headers: asReader });
    expect(list.statusCode).toBe(200);
    const write = await create({ image: BUSYBOX, name: `${PREFIX}by-reader` }, asReader);
    expect(write.statusCode).toBe(403);
    expect(write.json().detail).toContain('read-only');
    const stop = await act(`${PREFIX}self`, 'stop', asReader);
    expect(stop.statusCode).toBe(403);
    const anonymous = await app.inject({ method: 'GET', url: '/api/v1/containers' });
    expect(anonymous.statusCode).toBe(401);
    await expect(docker.inspectContainer(`${PREFIX}by-reader`)).rejects.toThrow();
  });

  it('writes every change to the audit log file', async () => {
    await create({ image: BUSYBOX, name: `${PREFIX}audited` });
    await act(`${PREFIX}audited`, 'start');
    await create({ image: BUSYBOX, name: `${PREFIX}audit-denied` }, asReader);
    await create({ image: BUSYBOX, privileged: true });
    // Refused before any hook of the route ran (no key): still written.
    const anonymous = await app.inject({ method: 'POST', url: `/api/v1/containers/${PREFIX}audited/stop` });
    expect(anonymous.statusCode).toBe(401);
    const lines = await eventually(() => {
      const entries = readFileSync(auditFile, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(entries.some((e) => e.action === 'container.start' && e.target === `${PREFIX}audited`)).toBe(true);
      return entries;
    });
    expect(lines).toContainEqual(
      expect.objectContaining({
        caller: 'writer',
        action: 'container.create',
        target: `${PREFIX}audited`,
        result: 'ok',
        status: 201,
      }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({
        caller: 'writer',
        action: 'container.start',
        target: `${PREFIX}audited`,
        result: 'ok',
        status: 200,
      }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({ caller: 'reader', action: 'container.create', result: 'denied', status: 403 }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({
        caller: 'writer',
        action: 'container.create',
        target: BUSYBOX,
        result: 'denied',
        status: 403,
      }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({ caller: 'anonymous', action: 'container.stop', result: 'denied', status: 401 }),
    );
    expect(lines.some((e) => e.action === undefined)).toBe(false);
    expect(lines.every((e) => typeof e.requestId === 'string' && typeof e.time === 'string')).toBe(true);
  });
});
