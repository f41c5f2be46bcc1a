import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventually } from '@repo/test-support';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerEngine } from '../../src/docker/engine.ts';
import { BUSYBOX, cleanup, json, listen, makeApp, readAll, requireEngine } from '../support/helpers.ts';

const run = promisify(execFile);
const PREFIX = 'da-cmp-';
const MANAGED = 'da-cmp-managed';
const CLI = 'da-cmp-cli';
const engine = await requireEngine();

const composeFile = (extra = '') => `
services:
  web:
    image: ${BUSYBOX}
    command: ["sh", "-c", "echo web says \${GREETING}; sleep 300"]
  oneshot:
    image: ${BUSYBOX}
    command: ["sh", "-c", "echo migration done"]
    restart: "no"
${extra}`;

type Project = { name: string; managed: boolean; status: string; services: { name: string; status: string }[] };

describe.runIf(engine)('compose projects (real engine, real compose CLI)', () => {
  const docker = engine as DockerEngine;
  let app: FastifyInstance;
  let base: string;
  let cliDir: string;
  let allowed: string;

  const put = (name: string, body: unknown) =>
    app.inject({ method: 'PUT', url: `/api/v1/compose/${name}`, ...json(body) });
  const op = async (name: string, operation: string, body: unknown = {}) => {
    const res = await fetch(`${base}/api/v1/compose/${name}/${operation}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const events = res.status === 200 ? await readAll(res) : [(await res.json()) as Record<string, unknown>];
    return { status: res.status, events };
  };
  const composeCli = (...args: string[]) =>
    run('docker-compose', ['-p', CLI, '-f', join(cliDir, 'docker-compose.yml'), ...args], { cwd: cliDir });
  const projects = async () =>
    ((await app.inject({ method: 'GET', url: '/api/v1/compose' })).json() as { projects: Project[] }).projects;

  beforeAll(async () => {
    await Promise.all([MANAGED, CLI].map((p) => run('docker-compose', ['-p', p, 'down', '-v']).catch(() => {})));
    await cleanup(docker, PREFIX);
    cliDir = mkdtempSync(join(tmpdir(), 'da-cmp-cli-'));
    allowed = mkdtempSync(join(tmpdir(), 'da-cmp-allowed-'));
    mkdirSync(join(allowed, 'data'));
    symlinkSync('/etc', join(allowed, 'escape'));
    app = await makeApp({ DOCKER_AGENT_BIND_ALLOWLIST: `${allowed},/var/run`, DOCKER_AGENT_HEARTBEAT_MS: '60000' });
    base = await listen(app);
  });
  afterAll(async () => {
    await app?.close();
    await Promise.all(
      [MANAGED, CLI].map((p) =>
        run('docker-compose', ['-p', p, '-f', join(cliDir, 'docker-compose.yml'), 'down', '-v']).catch(() => {}),
      ),
    );
    await cleanup(docker, PREFIX);
    docker.close();
  });

  it('creates a managed project, brings it up, lists it beside a CLI-started one with per-service status', async () => {
    const saved = await put(MANAGED, { composeFile: composeFile(), env: { GREETING: 'hello-from-env' } });
    expect(saved.statusCode, saved.body).toBe(201);
    expect(saved.json()).toEqual({ name: MANAGED, created: true, services: ['oneshot', 'web'] });
    const replaced = await put(MANAGED, { composeFile: composeFile(), env: { GREETING: 'hello-from-env' } });
    expect(replaced.statusCode).toBe(200);
    expect(replaced.json().created).toBe(false);

    const before = (await projects()).find((p) => p.name === MANAGED);
    expect(before).toMatchObject({ managed: true, status: 'down', services: [] });

    const up = await op(MANAGED, 'up');
    expect(up.status).toBe(200);
    expect(up.events.at(-1)).toEqual({ type: 'exit', code: 0 });
    expect(up.events.some((e) => e.type === 'output' && /web/.test(String(e.line)))).toBe(true);

    writeFileSync(join(cliDir, 'docker-compose.yml'), composeFile());
    await composeCli('up', '-d');

    const listed = await eventually(async () => {
      const all = await projects();
      for (const name of [MANAGED, CLI]) {
        const p = all.find((x) => x.name === name);
        expect(p?.services.find((s) => s.name === 'oneshot')?.status).toBe('completed');
      }
      return all;
    }, 15_000);
    for (const [name, managed] of [
      [MANAGED, true],
      [CLI, false],
    ] as const) {
      const p = listed.find((x) => x.name === name);
      expect(p).toMatchObject({ managed, status: 'running' });
      expect(p?.services).toEqual([
        expect.objectContaining({ name: 'oneshot', status: 'completed' }),
        expect.objectContaining({ name: 'web', status: 'running' }),
      ]);
    }

    const detail = await app.inject({ method: 'GET', url: `/api/v1/compose/${MANAGED}` });
    expect(detail.json()).toMatchObject({ name: MANAGED, managed: true, envKeys: ['GREETING'] });
    expect(detail.json().composeFile).toContain('migration done');
    const foreign = await app.inject({ method: 'GET', url: `/api/v1/compose/${CLI}` });
    expect(foreign.json()).toMatchObject({ name: CLI, managed: false, workingDir: cliDir });
  });

  it('streams merged, service-prefixed logs', async () => {
    const res = await fetch(`${base}/api/v1/compose/${MANAGED}/logs`);
    const events = await readAll(res);
    expect(events).toContainEqual(expect.objectContaining({ type: 'log', service: 'oneshot', line: 'migration done' }));
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'log', service: 'web', line: 'web says hello-from-env' }),
    );
    expect(events.at(-1)).toEqual({ type: 'exit', code: 0 });
  });

  it('restarts a project and reports a failing compose pull as the last stream line', async () => {
    const restart = await op(MANAGED, 'restart', { services: ['web'], timeout: 0 });
    expect(restart.events.at(-1)).toEqual({ type: 'exit', code: 0 });
    const pull = await op(MANAGED, 'pull');
    expect(pull.status).toBe(200);
    expect(pull.events.at(-1)).toMatchObject({ type: 'error', code: 'COMPOSE_FAILED' });
    expect(pull.events.at(-2)).toMatchObject({ type: 'exit' });
  });

  describe('policy through compose', () => {
    const denied = async (service: string, rule: string, field: string, extra = '') => {
      const file = `services:\n  bad:\n    image: ${BUSYBOX}\n${service
        .split('\n')
        .map((l) => `    ${l}`)
        .join('\n')}\n${extra}`;
      const r = await put(`${PREFIX}denied`, { composeFile: file });
      expect(r.statusCode, r.body).toBe(403);
      expect(r.json()).toMatchObject({ code: 'POLICY_DENIED', rule, field });
    };

    it('denies privileged, cap_add, host namespaces and devices in any service', async () => {
      await denied('privileged: true', 'privileged', 'services.bad.privileged');
      await denied('cap_add: [NET_ADMIN]', 'cap-add', 'services.bad.cap_add');
      await denied('network_mode: host', 'host-network-mode', 'services.bad.network_mode');
      await denied('pid: host', 'host-pid-mode', 'services.bad.pid');
      await denied('ipc: host', 'host-ipc-mode', 'services.bad.ipc');
      await denied('devices: ["/dev/kmsg:/dev/kmsg"]', 'devices', 'services.bad.devices');
    });

    it('denies confinement-lifting security_opt and joining a host-network container', async () => {
      await denied('security_opt: ["seccomp=unconfined"]', 'security-opt', 'services.bad.security_opt[0]');
      await denied(
        'security_opt: ["no-new-privileges:true", "apparmor=unconfined"]',
        'security-opt',
        'services.bad.security_opt[1]',
      );
      await docker.createContainer({
        Image: BUSYBOX,
        name: `${PREFIX}hostnet`,
        Cmd: ['sleep', '60'],
        HostConfig: { NetworkMode: 'host' },
      });
      await denied(`network_mode: "container:${PREFIX}hostnet"`, 'host-network-mode', 'services.bad.network_mode');
    });

    it('denies bind volumes outside the allowlist, escapes, the Docker socket and bind-type named volumes', async () => {
      await denied('volumes: ["/etc:/host-etc:ro"]', 'bind-mount-outside-allowlist', 'services.bad.volumes[0]');
      await denied(
        `volumes:\n  - type: bind\n    source: ${allowed}/data/../../../root\n    target: /r`,
        'bind-mount-outside-allowlist',
        'services.bad.volumes[0]',
      );
      await denied(
        `volumes: ["${allowed}/data:/ok", "${allowed}/escape:/x"]`,
        'bind-mount-outside-allowlist',
        'services.bad.volumes[1]',
      );
      await denied(
        'volumes: ["/var/run/docker.sock:/var/run/docker.sock"]',
        'docker-socket-mount',
        'services.bad.volumes[0]',
      );
      await denied(
        'volumes: ["sneaky:/x"]',
        'bind-mount-outside-allowlist',
        'volumes.sneaky.driver_opts.device',
        'volumes:\n  sneaky:\n    driver_opts: {type: none, o: bind, device: /etc}\n',
      );
      const ok = await put(`${PREFIX}allowed`, {
        composeFile: `services:\n  ok:\n    image: ${BUSYBOX}\n    volumes: ["${allowed}/data:/data"]\n`,
      });
      expect(ok.statusCode, ok.body).toBe(201);
      expect((await app.inject({ method: 'DELETE', url: `/api/v1/compose/${PREFIX}allowed` })).statusCode).toBe(200);
    });

    it('finds the socket and host paths behind every compose spelling, and what compose mounts by itself', async () => {
      symlinkSync('/var/run/docker.sock', join(allowed, 'sock-link'));
      const socket = 'docker-socket-mount';
      const outside = 'bind-mount-outside-allowlist';
      await denied('volumes: ["/var/run/docker.sock/:/s"]', socket, 'services.bad.volumes[0]');
      await denied('volumes: ["/var/run//docker.sock:/s"]', socket, 'services.bad.volumes[0]');
      await denied('volumes: ["/run/docker.sock:/s:ro"]', socket, 'services.bad.volumes[0]');
      await denied(`volumes: ["${allowed}/sock-link:/s"]`, socket, 'services.bad.volumes[0]');
      await denied(
        `volumes:\n  - type: bind\n    source: ${allowed}/data/../sock-link\n    target: /s\n    read_only: true`,
        socket,
        'services.bad.volumes[0]',
      );
      await denied(
        'volumes:\n  - type: bind\n    source: /var/run/\n    target: /host-run',
        socket,
        'services.bad.volumes[0]',
      );
      await denied('volumes: ["/proc/self/cwd:/x"]', outside, 'services.bad.volumes[0]');
      // compose (v1) bind-mounts file-based secrets into /run/secrets: a host file outside the allowlist.
      await denied('secrets: [shadow]', outside, 'secrets.shadow.file', 'secrets:\n  shadow:\n    file: /etc/shadow\n');
      await denied(
        'secrets: [sock]',
        socket,
        'secrets.sock.file',
        'secrets:\n  sock:\n    file: /var/run/docker.sock\n',
      );
      // volumes_from another container inherits mounts never checked here (the agent's own has the socket).
      await denied(
        'volumes_from: ["container:docker-agent"]',
        'volumes-from-container',
        'services.bad.volumes_from[0]',
      );
      await denied(
        'volumes: ["disk:/x"]',
        outside,
        'volumes.disk.driver_opts.device',
        'volumes:\n  disk:\n    driver_opts: {type: ext4, device: /dev/sda1}\n',
      );

      // Paths from interpolation are judged after compose resolved them (the stored .env is used).
      const interpolated = await put(`${PREFIX}denied`, {
        composeFile: `services:\n  bad:\n    image: ${BUSYBOX}\n    volumes: ["\${SOCK_DIR}/docker.sock:/s"]\n`,
        env: { SOCK_DIR: '/var/run' },
      });
      expect(interpolated.statusCode, interpolated.body).toBe(403);
      expect(interpolated.json()).toMatchObject({ rule: socket, field: 'services.bad.volumes[0]' });
      const defaulted = await put(`${PREFIX}denied`, {
        composeFile: `services:\n  bad:\n    image: ${BUSYBOX}\n    volumes: ["\${NOT_SET:-/etc}:/e"]\n`,
      });
      expect(defaulted.json()).toMatchObject({ rule: outside, field: 'services.bad.volumes[0]' });
      const home = await put(`${PREFIX}denied`, {
        composeFile: `services:\n  bad:\n    image: ${BUSYBOX}\n    volumes: ["~/.ssh:/k"]\n`,
      });
      expect(home.json()).toMatchObject({ rule: outside, field: 'services.bad.volumes[0]' });

      // env_file is read by the compose CLI as the agent's user: never from outside the project.
      await denied('env_file: /proc/1/environ', 'env-file-outside-project', 'services.bad.env_file');
      await denied('env_file: ["../../../../etc/passwd"]', 'env-file-outside-project', 'services.bad.env_file[0]');
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a compose interpolation, written as the caller would
      await denied('env_file: ["${HOME}/.env"]', 'env-file-outside-project', 'services.bad.env_file[0]');

      // Within the same project volumes_from is fine: the other service was checked too.
      const sibling = await put(`${PREFIX}sibling`, {
        composeFile: `services:\n  a:\n    image: ${BUSYBOX}\n    volumes: ["${allowed}/data:/d"]\n  b:\n    image: ${BUSYBOX}\n    volumes_from: [a]\n`,
      });
      expect(sibling.statusCode, sibling.body).toBe(201);
      expect((await app.inject({ method: 'DELETE', url: `/api/v1/compose/${PREFIX}sibling` })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: `/api/v1/compose/${PREFIX}denied` })).statusCode).toBe(404);
    });

    it('checks the image allowlist', async () => {
      const strict = await makeApp({ DOCKER_AGENT_IMAGE_ALLOWLIST: 'registry.example/' });
      try {
        const r = await strict.inject({
          method: 'PUT',
          url: `/api/v1/compose/${PREFIX}strict`,
          ...json({ composeFile: composeFile() }),
        });
        expect(r.statusCode).toBe(403);
        expect(r.json()).toMatchObject({ rule: 'image-not-allowed', field: 'services.oneshot.image' });
      } finally {
        await strict.close();
      }
    });

    it('checks projects started elsewhere on up, from their resolved config', async () => {
      writeFileSync(
        join(cliDir, 'docker-compose.yml'),
        composeFile(`  escalated:\n    image: ${BUSYBOX}\n    privileged: true\n`),
      );
      const up = await op(CLI, 'up');
      expect(up.status).toBe(403);
      expect(up.events[0]).toMatchObject({ rule: 'privileged', field: 'services.escalated.privileged' });
      writeFileSync(join(cliDir, 'docker-compose.yml'), composeFile());
    });
  });

  it('rejects invalid files, unknown projects and hostile names', async () => {
    const notYaml = await put(`${PREFIX}bad`, { composeFile: 'services: [unclosed' });
    expect(notYaml.statusCode).toBe(422);
    expect(notYaml.json().code).toBe('COMPOSE_INVALID');
    const invalid = await put(`${PREFIX}bad`, { composeFile: 'services:\n  x:\n    image: 12\n    ports: "nope"\n' });
    expect(invalid.statusCode).toBe(422);
    expect(invalid.json().detail).toMatch(/compose/);
    const clash = await put(CLI, { composeFile: composeFile() });
    expect(clash.statusCode).toBe(409);
    const unknown = await app.inject({ method: 'GET', url: `/api/v1/compose/${PREFIX}nothing` });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe('PROJECT_NOT_FOUND');
    for (const bad of ['..%2Fetc', 'UPPER', 'a%20b']) {
      const r = await app.inject({ method: 'GET', url: `/api/v1/compose/${bad}` });
      expect(r.statusCode, bad).toBe(400);
      expect(r.json().issues[0].field).toBe('params.project');
    }
    const strictBody = await put(`${PREFIX}bad`, { composeFile: composeFile(), extra: true });
    expect(strictBody.json().issues).toContainEqual({ field: 'body.extra', message: 'unknown field' });
  });

  it('brings both projects down and removes the managed one', async () => {
    const cliDown = await op(CLI, 'down');
    expect(cliDown.events.at(-1)).toEqual({ type: 'exit', code: 0 });
    const down = await op(MANAGED, 'down', { volumes: true });
    expect(down.events.at(-1)).toEqual({ type: 'exit', code: 0 });
    const after = await projects();
    expect(after.find((p) => p.name === CLI)).toBeUndefined();
    expect(after.find((p) => p.name === MANAGED)).toMatchObject({ status: 'down', services: [] });
    const removed = await app.inject({ method: 'DELETE', url: `/api/v1/compose/${MANAGED}` });
    expect(removed.statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: `/api/v1/compose/${MANAGED}` })).statusCode).toBe(404);
    const containers = await docker.listContainers({
      all: true,
      filters: { label: [`com.docker.compose.project=${MANAGED}`] },
    });
    expect(containers).toHaveLength(0);
  });
});
