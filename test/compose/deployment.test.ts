/**
 * The compose deployment as users run it: real images, `docker-compose up`, everything through the
 * published front on loopback. scripts/compose-e2e.sh builds the images, writes the test .env and
 * brings the stack up healthy, then runs this file (not part of `pnpm test`: it needs the built
 * images and minutes of the engine). The last test takes the stack down and checks nothing is left.
 *   COMPOSE_E2E_PROJECT   the compose project (its own name: `down -v` touches nothing else)
 *   COMPOSE_E2E_ENV_FILE  the .env the stack was started with (keys, ports, images)
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { replay, seedExamples } from '../e2e/seed-curl.ts';

const exec = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
const project = process.env.COMPOSE_E2E_PROJECT ?? '';
const envFile = process.env.COMPOSE_E2E_ENV_FILE ?? '';
if (!project || !envFile)
  throw new Error('run through scripts/compose-e2e.sh (COMPOSE_E2E_PROJECT, COMPOSE_E2E_ENV_FILE)');
const env = Object.fromEntries(
  [...readFileSync(envFile, 'utf8').matchAll(/^([A-Z][A-Z0-9_]*)=(.*)$/gm)].map((m) => [m[1], m[2]]),
) as Record<string, string>;
const front = `http://127.0.0.1:${env.FRONT_PORT}`;
const emulator = `http://127.0.0.1:${env.PORTONE_EMULATOR_PORT}`;
/** name:role:key entries of the .env. */
const key = (list: string | undefined, role: 'read' | 'write') =>
  (list ?? '')
    .split(',')
    .find((entry) => entry.split(':')[1] === role)
    ?.split(':')[2] ?? '';
const keys = {
  gatewayWrite: key(env.GATEWAY_API_KEYS, 'write'),
  gatewayRead: key(env.GATEWAY_API_KEYS, 'read'),
  agentWrite: key(env.DOCKER_AGENT_API_KEYS, 'write'),
  agentRead: key(env.DOCKER_AGENT_API_KEYS, 'read'),
};

async function compose(...args: string[]): Promise<string> {
  const base = ['-p', project, '--env-file', envFile, '-f', 'docker-compose.yml', '--profile', 'dev'];
  return (await exec('docker-compose', [...base, ...args], { cwd: root, maxBuffer: 64 * 1024 * 1024 })).stdout;
}
async function docker(...args: string[]): Promise<string> {
  return (await exec('docker', args, { maxBuffer: 64 * 1024 * 1024 })).stdout.trim();
}
/** The ids of one service's containers (running ones unless `all`), by compose's own labels. */
async function containersOf(service: string, all = false): Promise<string[]> {
  const out = await docker(
    'ps',
    all ? '-aq' : '-q',
    '--filter',
    `label=com.docker.compose.project=${project}`,
    '--filter',
    `label=com.docker.compose.service=${service}`,
  );
  return out ? out.split('\n') : [];
}
async function sql(query: string): Promise<string> {
  const [db] = await containersOf('mysql');
  const [user, password, database] = [
    env.MYSQL_USER ?? 'payments',
    env.MYSQL_PASSWORD,
    env.MYSQL_DATABASE ?? 'payments',
  ];
  return docker('exec', db ?? '', 'mysql', '-h127.0.0.1', `-u${user}`, `-p${password}`, database, '-N', '-e', query);
}
async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${what} did not happen in ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
}
function api(path: string, apiKey: string | undefined, init: RequestInit & { json?: unknown } = {}) {
  const headers: Record<string, string> = { ...(init.headers as Record<string, string>) };
  if (apiKey) headers['x-api-key'] = apiKey;
  if (init.json !== undefined) headers['content-type'] = 'application/json';
  const body = init.json !== undefined ? JSON.stringify(init.json) : init.body;
  return fetch(`${front}/api/v1${path}`, { ...init, headers, body });
}

describe('the compose deployment through its published front', { timeout: 180_000 }, () => {
  it('serves the seed documents payment examples against the emulator, with a write key', async () => {
    const payments = seedExamples.filter((e) => /^\/api\/v1\/(payments|subscriptions)/.test(e.path));
    expect(payments.length).toBe(10);
    const results: Record<string, { status: number; body: string }> = {};
    for (const example of payments) {
      const withKey = {
        ...example,
        command: example.command.replace(/^curl /, `curl -H 'X-API-Key: ${keys.gatewayWrite}' `),
      };
      results[`${example.method} ${example.path}`] = await replay(withKey, front);
      if (example.path === '/api/v1/payments/prepare') {
        // The customer pays in the browser; the emulator's control API (published on loopback) stands in.
        const paid = await fetch(`${emulator}/__emulator/checkout`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ merchant_uid: 'order_20240101_001', imp_uid: 'imp_123456789', amount: 10000 }),
        });
        expect(((await paid.json()) as { code: number }).code).toBe(0);
      }
    }
    const all = JSON.stringify(results, null, 1).slice(0, 20_000);
    for (const [route, result] of Object.entries(results)) expect(result.status, `${route}\n${all}`).toBeLessThan(300);
    expect(results['GET /api/v1/payments/imp_123456789']?.body).toContain('"amount":10000');
    expect(results['POST /api/v1/payments/cancel']?.body).toContain('5000');
    expect(results['POST /api/v1/subscriptions/pay']?.body).toContain('"paid"');
    // The checkout's webhook went emulator -> front -> gateway -> MySQL inside the compose network.
    await until(
      'the paid webhook stored',
      async () =>
        (await sql("SELECT status FROM webhook_deliveries WHERE imp_uid = 'imp_123456789'")).includes('paid') ||
        undefined,
    );
  });

  it('manages sibling containers through the agent container over the mounted socket', async () => {
    const list = await api('/containers', keys.agentRead);
    expect(list.status).toBe(200);
    const name = `${project}-sibling`;
    const created = await api('/containers', keys.agentWrite, {
      method: 'POST',
      json: { image: 'local/busybox:1', name, cmd: ['sleep', '300'] },
    });
    expect(created.status, await created.clone().text()).toBe(201);
    try {
      expect((await api(`/containers/${name}/start`, keys.agentWrite, { method: 'POST' })).status).toBe(200);
      expect(await docker('inspect', '-f', '{{.State.Running}}', name)).toBe('true');
      expect((await api(`/containers/${name}/stop`, keys.agentWrite, { method: 'POST' })).status).toBe(200);
      expect((await api(`/containers/${name}`, keys.agentWrite, { method: 'DELETE' })).status).toBeLessThan(300);
      await expect(docker('inspect', name)).rejects.toThrow();
    } finally {
      await docker('rm', '-f', name).catch(() => undefined);
    }
  });

  it('lists compose projects through the agent; managing one needs the compose CLI in the image', async () => {
    const projects = await api('/compose', keys.agentRead);
    expect(projects.status).toBe(200);
    expect(await projects.text()).toContain(`"${project}"`);
    // The upstream docker:27-cli carries the compose v2 plugin; the Debian stand-in has none (README).
    const [agent] = await containersOf('docker-agent');
    const hasCompose = await docker('exec', agent ?? '', 'docker', 'compose', 'version').then(
      () => true,
      () => false,
    );
    const name = `${project}-managed`;
    const saved = await api('/compose', keys.agentWrite, {
      method: 'POST',
      json: { name, composeFile: 'services:\n  idle:\n    image: local/busybox:1\n' },
    });
    const body = await saved.text();
    if (hasCompose) {
      expect(saved.status, body).toBe(201);
      expect((await api(`/compose/${name}`, keys.agentWrite, { method: 'DELETE' })).status).toBeLessThan(300);
    } else {
      expect(saved.status, body).toBe(503);
      expect(JSON.parse(body)).toMatchObject({ code: 'COMPOSE_UNAVAILABLE' });
    }
  });

  it('answers 401 without a key and 403 for a read key on a write route, on both services', async () => {
    const noKey = await api('/payments/imp_123456789', undefined);
    expect(noKey.status).toBe(401);
    expect((await api('/containers', undefined)).status).toBe(401);
    const readOnPrepare = await api('/payments/prepare', keys.gatewayRead, {
      method: 'POST',
      json: { merchant_uid: `read-${Date.now()}`, amount: 1000 },
    });
    expect(readOnPrepare.status).toBe(403);
    expect((await api('/payments/imp_123456789', keys.gatewayRead)).status).toBe(200);
    const readOnCreate = await api('/containers', keys.agentRead, {
      method: 'POST',
      json: { image: 'local/busybox:1', name: `${project}-refused` },
    });
    expect(readOnCreate.status).toBe(403);
  });

  it('ran the migrations once, before the gateway served', async () => {
    const migrator = readFileSync(`${root}services/payment-gateway/src/store/migrator.ts`, 'utf8');
    const files = new Set([...migrator.matchAll(/from '\.\/migrations\/([^']+)\.ts'/g)].map((m) => m[1]));
    const rows = (await sql('SELECT name FROM kysely_migration')).split('\n').filter(Boolean);
    expect(rows.length).toBe(files.size);
    expect(new Set(rows)).toEqual(files);
    const [migrate] = await containersOf('migrate', true);
    expect(
      await docker('inspect', '-f', '{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}', migrate ?? ''),
    ).toBe('exited 0 0');
  });

  it('refuses to let the agent stop or remove any container of the stack, itself included', async () => {
    for (const service of ['mysql', 'payment-gateway', 'front', 'docker-agent']) {
      const [id] = await containersOf(service);
      expect(id, service).toBeTruthy();
      const stop = await api(`/containers/${id}/stop`, keys.agentWrite, { method: 'POST' });
      expect(stop.status, service).toBe(403);
      const remove = await api(`/containers/${id}?force=true`, keys.agentWrite, { method: 'DELETE' });
      expect(remove.status, service).toBe(403);
      expect(await docker('inspect', '-f', '{{.State.Running}}', id ?? '')).toBe('true');
    }
  });

  it('runs every container read-only, as a non-root user where the image is ours', async () => {
    for (const service of ['front', 'mysql', 'payment-gateway', 'docker-agent', 'portone-emulator']) {
      const [id] = await containersOf(service);
      expect(await docker('inspect', '-f', '{{.HostConfig.ReadonlyRootfs}}', id ?? ''), service).toBe('true');
    }
    for (const service of ['payment-gateway', 'docker-agent', 'portone-emulator']) {
      const [id] = await containersOf(service);
      expect(await docker('exec', id ?? '', 'id', '-u'), service).not.toBe('0');
    }
  });

  it('ships production dependencies only in the service images', async () => {
    for (const service of ['payment-gateway', 'docker-agent', 'portone-emulator']) {
      const [id] = await containersOf(service);
      const modules = (await docker('exec', id ?? '', 'ls', '-A', 'node_modules', 'node_modules/.pnpm')).split('\n');
      expect(modules.length, service).toBeGreaterThan(10);
      for (const dev of ['vitest', 'typescript', '@biomejs', 'autocannon']) {
        expect(
          modules.filter((m) => m === dev || m.startsWith(`${dev}@`) || m.startsWith(`${dev.replace('/', '+')}`)),
          service,
        ).toEqual([]);
      }
    }
  });

  it('survives a restart of the database container', async () => {
    const [db] = await containersOf('mysql');
    await docker('restart', db ?? '');
    // A request may meet a pool connection the restart broke: that is a 503 STORE_UNAVAILABLE the caller
    // retries, never a 500. Lookups alone prove little (an unchanged payment skips the store), so each
    // round also prepares a new payment, which writes.
    const seen = new Set<number>();
    await until('lookups and writes succeed again after the restart', async () => {
      for (let i = 0; i < 5; i++) {
        const looked = await api('/payments/imp_123456789', keys.gatewayRead);
        const prepared = await api('/payments/prepare', keys.gatewayWrite, {
          method: 'POST',
          json: { merchant_uid: `after-restart-${Date.now()}-${i}`, amount: 2000 },
        });
        await Promise.all([looked.arrayBuffer(), prepared.arrayBuffer()]);
        seen.add(looked.status).add(prepared.status);
        if (looked.status !== 200 || prepared.status !== 201) return undefined;
      }
      return true;
    });
    expect([...seen].filter((status) => ![200, 201, 503].includes(status))).toEqual([]);
  });

  it('spreads requests over two gateway replicas, and stops sending to one that went away', async () => {
    await compose('up', '-d', '--no-deps', '--no-recreate', '--scale', 'payment-gateway=2', 'payment-gateway');
    const replicas = await containersOf('payment-gateway');
    expect(replicas.length).toBe(2);
    await until('both replicas healthy', async () => {
      const states = await Promise.all(replicas.map((id) => docker('inspect', '-f', '{{.State.Health.Status}}', id)));
      return states.every((s) => s === 'healthy') || undefined;
    });
    // Each replica logs the requests it serves; a marker in the URL shows which one answered.
    const marker = `scale-probe-${Date.now()}`;
    await until('both replicas answered through the front', async () => {
      for (let i = 0; i < 10; i++) {
        const res = await api(`/payments/find/${marker}`, keys.gatewayRead);
        await res.arrayBuffer();
        expect(res.status).toBe(404);
      }
      const served = await Promise.all(
        replicas.map(async (id) =>
          (await exec('docker', ['logs', id], { maxBuffer: 64 * 1024 * 1024 })).stdout.includes(marker),
        ),
      );
      return served.every(Boolean) || undefined;
    });

    await compose('up', '-d', '--no-deps', '--no-recreate', '--scale', 'payment-gateway=1', 'payment-gateway');
    expect((await containersOf('payment-gateway')).length).toBe(1);
    // Once the front's DNS answer expires (5 s), every request goes to the replica that is left.
    await until('every request answered by the remaining replica', async () => {
      for (let i = 0; i < 10; i++) {
        const res = await api('/payments/imp_123456789', keys.gatewayRead);
        if (res.status !== 200) return undefined;
      }
      return true;
    });
    for (let i = 0; i < 20; i++) expect((await api('/payments/imp_123456789', keys.gatewayRead)).status).toBe(200);
  });

  it('leaves nothing behind after down -v', async () => {
    await compose('down', '-v', '--remove-orphans');
    const label = `label=com.docker.compose.project=${project}`;
    expect(await docker('ps', '-aq', '--filter', label)).toBe('');
    expect(await docker('volume', 'ls', '-q', '--filter', label)).toBe('');
    expect(await docker('network', 'ls', '-q', '--filter', label)).toBe('');
  });
});
