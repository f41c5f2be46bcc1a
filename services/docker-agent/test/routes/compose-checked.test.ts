import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DockerEngine } from '../../src/docker/engine.ts';
import { BUSYBOX, cleanup, json, listen, makeApp, ndjson, readAll, requireEngine } from '../support/helpers.ts';

/** Compose checks what compose will actually run: the resolved model, from a checked snapshot. */
const run = promisify(execFile);
const PREFIX = 'i10a-';
const PROTECT = 'com.portone-docker-stack.protected';
const engine = await requireEngine();

const service = (lines: string, extra = '') =>
  `services:\n  app:\n    image: ${BUSYBOX}\n${lines
    .split('\n')
    .filter(Boolean)
    .map((l) => `    ${l}`)
    .join('\n')}\n${extra}`;

// Every save and `up` runs the compose CLI (seconds each on a loaded machine): a longer test timeout.
describe.runIf(engine)(
  'compose: what is checked is what runs (real engine, real compose CLI)',
  { timeout: 180_000 },
  () => {
    const docker = engine as DockerEngine;
    let app: FastifyInstance;
    let base: string;
    let composeDir: string;
    const projects = new Set<string>();

    const put = (name: string, body: unknown, on = app) => {
      projects.add(name);
      return on.inject({ method: 'PUT', url: `/api/v1/compose/${name}`, ...json(body) });
    };
    const op = async (name: string, operation: string, body: unknown = {}, at = base) => {
      const res = await fetch(`${at}/api/v1/compose/${name}/${operation}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const events = res.status === 200 ? await readAll(res) : [(await res.json()) as Record<string, unknown>];
      return { status: res.status, events };
    };
    const denied = async (composeFile: string, rule: string, field: string) => {
      const r = await put(`${PREFIX}denied`, { composeFile });
      expect(r.statusCode, `${field}: ${r.body}`).toBe(403);
      expect(r.json()).toMatchObject({ code: 'POLICY_DENIED', rule, field });
    };

    beforeAll(async () => {
      await cleanup(docker, PREFIX);
      composeDir = mkdtempSync(join(tmpdir(), 'i10a-compose-'));
      app = await makeApp({ DOCKER_AGENT_COMPOSE_DIR: composeDir, DOCKER_AGENT_HEARTBEAT_MS: '60000' });
      base = await listen(app);
    });
    // Compose names what it creates `<project>_<service>_1` and `<project>_default`: the prefix finds all.
    afterEach(async () => {
      projects.clear();
      await cleanup(docker, PREFIX);
    });
    afterAll(async () => {
      await app?.close();
      await cleanup(docker, PREFIX);
      docker.close();
    });

    it('refuses what `config` cannot show: include, extends.file, label_file, env_file behind a merge key', async () => {
      await denied(`include: [/etc/other.yaml]\n${service('')}`, 'compose-include', 'include');
      await denied(
        service('extends: {file: /etc/base.yaml, service: base}'),
        'compose-extends-file',
        'services.app.extends.file',
      );
      await denied(service('label_file: /proc/1/environ'), 'compose-label-file', 'services.app.label_file');
      // The anchor sits outside `services`; compose merges it in, a reader of `services.*` would not.
      await denied(
        `x-base: &base\n  env_file: /proc/1/environ\n${service('<<: *base')}`,
        'env-file-outside-project',
        'x-base.env_file',
      );
      // An env file inside the project passes (the stored .env, once the project has one).
      expect((await put(`${PREFIX}envfile`, { composeFile: service(''), env: { A: '1' } })).statusCode).toBe(201);
      const merged = `x-base: &base\n  env_file: [.env]\nservices:\n  app:\n    <<: *base\n    image: ${BUSYBOX}\n`;
      const inside = await put(`${PREFIX}envfile`, { composeFile: merged, env: { A: '1' } });
      expect(inside.statusCode, inside.body).toBe(200);
    });

    it('refuses every service key it does not know, naming the service and the key', async () => {
      const rule = 'compose-key-not-allowed';
      await denied(service("device_cgroup_rules: ['b *:* rwm']"), rule, 'services.app.device_cgroup_rules');
      await denied(service('runtime: runc'), rule, 'services.app.runtime');
      await denied(service('cgroup_parent: /system.slice'), rule, 'services.app.cgroup_parent');
      await denied(service('sysctls: {net.core.somaxconn: 1024}'), rule, 'services.app.sysctls');
      await denied(service('userns_mode: host'), rule, 'services.app.userns_mode');
      await denied(service('oom_kill_disable: true'), rule, 'services.app.oom_kill_disable');
      await denied(service('external_links: [mysql]'), rule, 'services.app.external_links');
      await denied(
        service('deploy: {resources: {reservations: {devices: [{capabilities: [gpu]}]}}}'),
        rule,
        'services.app.deploy.resources.reservations.devices',
      );
      const limited = await put(`${PREFIX}limited`, {
        composeFile: service('deploy: {resources: {limits: {memory: 64M}}}\nmem_limit: 64m\ncap_drop: [ALL]'),
      });
      expect(limited.statusCode, limited.body).toBe(201);
    });

    it('refuses the host network however it is spelled, and networks the stack sits on', async () => {
      await denied(
        service('networks: [x]', 'networks:\n  x:\n    external: true\n    name: host\n'),
        'host-network-mode',
        'networks.x',
      );
      await denied(service('networks: [x]', 'networks:\n  x:\n    name: host\n'), 'host-network-mode', 'networks.x');
      await denied(
        service('networks: [x]', 'networks:\n  x:\n    driver: macvlan\n    driver_opts: {parent: eth0}\n'),
        'compose-network',
        'networks.x.driver_opts',
      );
      await docker.createNetwork({ Name: `${PREFIX}stack-net` } as never);
      await docker.createContainer({
        Image: BUSYBOX,
        name: `${PREFIX}stack-db`,
        Cmd: ['sleep', '60'],
        Labels: { [PROTECT]: 'true' },
        HostConfig: { NetworkMode: `${PREFIX}stack-net` },
      });
      await denied(
        service(
          'networks: {x: {aliases: [mysql]}}',
          `networks:\n  x:\n    external: true\n    name: ${PREFIX}stack-net\n`,
        ),
        'protected-container',
        'networks.x',
      );
      // The engine also takes a network's name as the network mode.
      await denied(service(`network_mode: ${PREFIX}stack-net`), 'protected-container', 'services.app.network_mode');
    });

    it('refuses builds from outside the project: remote contexts, absolute dockerfiles, the host network', async () => {
      // compose wants the context (the project directory) to exist before it resolves the file.
      expect((await put(`${PREFIX}denied`, { composeFile: service('') })).statusCode).toBeLessThan(300);
      await denied(
        service('build: {context: "https://github.com/docker-library/busybox.git"}'),
        'compose-build',
        'services.app.build.context',
      );
      await denied(
        service('build: {context: ., dockerfile: /etc/shadow}'),
        'compose-build',
        'services.app.build.dockerfile',
      );
      await denied(service('build: {context: ., network: host}'), 'compose-build', 'services.app.build.network');
    });

    it('runs the checked snapshot: a changed .env or compose file on disk does not change what runs', async () => {
      const name = `${PREFIX}snap`;
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a compose interpolation, written as the caller would
      const file = service('command: ["sleep", "300"]\nenvironment: {GREETING: "${GREETING}"}');
      expect((await put(name, { composeFile: file, env: { GREETING: 'checked' } })).statusCode).toBe(201);
      // Another writer (or a crash mid-write) leaves different files behind after the check.
      writeFileSync(join(composeDir, name, '.env'), '');
      writeFileSync(join(composeDir, name, 'compose.yaml'), service('command: ["sleep", "300"]\nprivileged: true'));
      const up = await op(name, 'up');
      expect(up.status, JSON.stringify(up.events)).toBe(200);
      expect(up.events.at(-1)).toEqual({ type: 'exit', code: 0 });
      const [container] = await docker.listContainers({
        all: true,
        filters: { label: [`com.docker.compose.project=${name}`] },
      });
      const info = await docker.inspectContainer(container?.Id ?? '');
      expect(info.Config.Env).toContain('GREETING=checked');
      expect(info.HostConfig.Privileged).toBe(false);
      expect(readFileSync(join(composeDir, name, 'resolved.yaml'), 'utf8')).toContain('GREETING: checked');
    });

    it('changes one project at a time: a change while `down` runs is a 409 PROJECT_BUSY', async () => {
      const name = `${PREFIX}busy`;
      // `sleep` as PID 1 ignores SIGTERM: `down` waits out the grace period, the window for a second change.
      const file = service('command: ["sleep", "300"]\nstop_grace_period: 5s');
      expect((await put(name, { composeFile: file })).statusCode).toBe(201);
      expect((await op(name, 'up')).events.at(-1)).toEqual({ type: 'exit', code: 0 });
      const res = await fetch(`${base}/api/v1/compose/${name}/down`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(res.status).toBe(200);
      const events = ndjson(res);
      await events.next(); // the CLI started: the lock is held until it exits
      const busy = await put(name, { composeFile: service('command: ["sleep", "1"]') });
      expect(busy.statusCode, busy.body).toBe(409);
      expect(busy.json()).toMatchObject({ code: 'PROJECT_BUSY' });
      const concurrent = await op(name, 'up');
      expect(concurrent.status).toBe(409);
      expect(concurrent.events[0]).toMatchObject({ code: 'PROJECT_BUSY' });
      const rest: Record<string, unknown>[] = [];
      for await (const e of events) rest.push(e);
      expect(rest.at(-1)).toEqual({ type: 'exit', code: 0 });
      expect((await put(name, { composeFile: file })).statusCode).toBe(200);
    });

    it('never touches a project holding a protected container or the agent itself', async () => {
      const name = `${PREFIX}stack`;
      expect((await put(name, { composeFile: service('command: ["sleep", "300"]') })).statusCode).toBe(201);
      // The stack's own container carries the project's compose labels (it was started by compose elsewhere).
      const labels = { 'com.docker.compose.project': name, 'com.docker.compose.service': 'db' };
      const { id } = await docker.createContainer({
        Image: BUSYBOX,
        name: `${PREFIX}stack-db`,
        Cmd: ['sleep', '300'],
        Labels: { ...labels, [PROTECT]: 'true' },
      });
      for (const operation of ['up', 'down', 'restart', 'pull']) {
        const r = await op(name, operation);
        expect(r.status, operation).toBe(403);
        expect(r.events[0]).toMatchObject({ code: 'POLICY_DENIED', rule: 'protected-container', field: 'project' });
      }
      const remove = await app.inject({ method: 'DELETE', url: `/api/v1/compose/${name}` });
      expect(remove.statusCode).toBe(403);
      expect((await docker.inspectContainer(id)).Id).toBe(id);

      // The agent's own container is refused the same way, protect label or not.
      await docker.removeContainer(id, { force: true, volumes: true });
      const self = await docker.createContainer({
        Image: BUSYBOX,
        name: `${PREFIX}agent`,
        Cmd: ['sleep', '300'],
        Labels: labels,
      });
      const agent = await makeApp({
        DOCKER_AGENT_COMPOSE_DIR: composeDir,
        DOCKER_AGENT_SELF_CONTAINER: `${PREFIX}agent`,
      });
      try {
        const down = await agent.inject({ method: 'POST', url: `/api/v1/compose/${name}/down`, ...json({}) });
        expect(down.statusCode).toBe(403);
        expect(down.json()).toMatchObject({ rule: 'agent-self-protection', field: 'project' });
      } finally {
        await agent.close();
      }
      expect((await docker.inspectContainer(self.id)).Id).toBe(self.id);
    });

    it('changes only managed projects; one found by its labels can be listed and its logs read', async () => {
      const name = `${PREFIX}foreign`;
      projects.add(name);
      const dir = mkdtempSync(join(tmpdir(), 'i10a-foreign-'));
      writeFileSync(join(dir, 'docker-compose.yml'), service('command: ["sh", "-c", "echo foreign up; sleep 300"]'));
      await run('docker-compose', ['-p', name, 'up', '-d'], { cwd: dir });
      for (const operation of ['up', 'down', 'restart', 'pull']) {
        const r = await op(name, operation);
        expect(r.status, operation).toBe(409);
        expect(r.events[0]).toMatchObject({ code: 'PROJECT_NOT_MANAGED' });
      }
      expect((await app.inject({ method: 'DELETE', url: `/api/v1/compose/${name}` })).statusCode).toBe(409);
      const listed = (await app.inject({ method: 'GET', url: '/api/v1/compose' })).json() as {
        projects: { name: string; managed: boolean }[];
      };
      expect(listed.projects).toContainEqual(expect.objectContaining({ name, managed: false }));
      const logs = await readAll(await fetch(`${base}/api/v1/compose/${name}/logs`));
      expect(logs).toContainEqual(expect.objectContaining({ type: 'log', service: 'app', line: 'foreign up' }));
    });

    it('applies the image allowlist to compose pull and up', async () => {
      const name = `${PREFIX}images`;
      expect((await put(name, { composeFile: service('command: ["sleep", "300"]') })).statusCode).toBe(201);
      const strict = await makeApp({
        DOCKER_AGENT_COMPOSE_DIR: composeDir,
        DOCKER_AGENT_IMAGE_ALLOWLIST: 'registry.example/',
      });
      try {
        for (const operation of ['pull', 'up']) {
          const r = await strict.inject({ method: 'POST', url: `/api/v1/compose/${name}/${operation}`, ...json({}) });
          expect(r.statusCode, operation).toBe(403);
          expect(r.json()).toMatchObject({ rule: 'image-not-allowed', field: 'services.app.image' });
        }
      } finally {
        await strict.close();
      }
    });
  },
);
