/**
 * `pnpm bench`: builds, starts every service as its own process against real MariaDB, dockerd and
 * nginx, with API keys on and info logging as deployed, beside bare Fastify anchors doing the same job
 * (bench/anchors/), measures each figure side by side with its anchor in this one run (medians over
 * BENCH_REPEATS runs), prints the table and writes bench/RESULTS.md.
 *   BENCH_REPEATS (default 4; even: a ratio is taken over pairs of repeats), BENCH_DURATION seconds per load run (default 3),
 *   TEST_MYSQL_URL (default mysql://stack:stack@127.0.0.1:3306), DOCKER_SOCKET (default /var/run/docker.sock),
 *   BENCH_ONLY: a comma-separated subset of client,gateway,outbox,agent,start-up; the table is printed and
 *   RESULTS.md is left alone (a partial run is for working on one path, not for the record).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import { nginxAvailable, startFront } from '../scripts/front.ts';
import { imageRuntimeEnv } from '../scripts/image-env.ts';
import { benchAgent, cleanup, engine, setupContainers } from './agent.ts';
import { benchClient } from './client.ts';
import { benchLookups, benchWebhooks } from './gateway.ts';
import { freePort, markdownTable, median, ROOT, type Row, rssMiB, startService } from './lib.ts';
import { benchOutbox } from './outbox.ts';

const repeats = Number(process.env.BENCH_REPEATS ?? 4);
const duration = Number(process.env.BENCH_DURATION ?? 3);
const mysqlServer = process.env.TEST_MYSQL_URL ?? 'mysql://stack:stack@127.0.0.1:3306';
const dockerSocket = process.env.DOCKER_SOCKET ?? '/var/run/docker.sock';
const sections = ['client', 'gateway', 'outbox', 'agent', 'start-up'] as const;
const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
const unknown = only?.filter((s) => !(sections as readonly string[]).includes(s)) ?? [];
if (unknown.length > 0) throw new Error(`BENCH_ONLY: unknown section(s) ${unknown.join(', ')}; known: ${sections}`);
const runs = (section: (typeof sections)[number]) => only === undefined || only.includes(section);
if (!nginxAvailable()) throw new Error('pnpm bench needs nginx (scripts/services.sh installs it)');

// Other work on the machine skews both sides of a ratio unevenly: the report says how busy it was.
const loadAtStart = loadavg()[0] ?? Number.NaN;
const dir = mkdtempSync(join(tmpdir(), 'stack-bench-'));
const database = `bench_${process.pid}`;
const admin = await createConnection(mysqlServer);
await admin.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4`);
const dbUrl = new URL(mysqlServer);
dbUrl.pathname = `/${database}`;
const db = await createConnection(dbUrl.toString());
const docker = engine(dockerSocket);
// Everything started, in order; stopped (again, harmlessly) at the end.
const services: { stop(): Promise<void> }[] = [];
const rows: Row[] = [];
const log = (msg: string) => console.info(`[bench] ${msg}`);

// Stops what the run started, removes its containers, database and files; once, whether the run ends,
// fails or is interrupted (Ctrl-C would otherwise leave the bench's containers on the engine, its
// database on the server and, sent to this process alone, every service it started still listening).
let tornDown: Promise<void> | undefined;
const tearDown = () => {
  tornDown ??= (async () => {
    for (const s of services) await s.stop().catch(() => undefined);
    await cleanup(docker).catch(() => undefined);
    await docker.close();
    await db.end().catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS \`${database}\``);
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  })();
  return tornDown;
};
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    log(`${signal}: stopping the services, removing the bench's containers and database`);
    void tearDown().finally(() => process.exit(130));
  });

const ports = {
  emulator: await freePort(),
  gateway: await freePort(),
  agent: await freePort(),
  front: await freePort(),
  lookupAnchor: await freePort(),
  requiredAnchor: await freePort(),
  socketAnchor: await freePort(),
  webhookAnchor: await freePort(),
};
const apiKey = `bench-${randomBytes(16).toString('hex')}`;
const gatewayEnv = {
  // As services/payment-gateway/Dockerfile runs it: two malloc arenas, the young and old generations' caps.
  ...imageRuntimeEnv('payment-gateway'),
  LOG_LEVEL: 'info',
  // A write key: the outbox section manages notification endpoints with it.
  API_KEYS: `bench:write:${apiKey}`,
  GATEWAY_HOST: '127.0.0.1',
  GATEWAY_PORT: String(ports.gateway),
  DATABASE_URL: dbUrl.toString(),
  PORTONE_API_URL: `http://127.0.0.1:${ports.emulator}`,
  // The webhook storm measures storage throughput from one address, not the per-address limit.
  WEBHOOK_RATE_LIMIT_MAX: '100000000',
};
const agentEnv = {
  LOG_LEVEL: 'info',
  API_KEYS: `bench:read:${apiKey}`,
  DOCKER_AGENT_HOST: '127.0.0.1',
  DOCKER_AGENT_PORT: String(ports.agent),
  DOCKER_SOCKET: dockerSocket,
  DOCKER_AGENT_AUDIT_FILE: join(dir, 'audit.jsonl'),
  DOCKER_AGENT_COMPOSE_DIR: join(dir, 'compose'),
  // As deployed (services/docker-agent/Dockerfile).
  ...imageRuntimeEnv('docker-agent'),
};
const start = {
  emulator: () =>
    startService(
      'emulator',
      'packages/portone-emulator/dist/cli.js',
      { PORTONE_EMULATOR_PORT: String(ports.emulator) },
      ports.emulator,
      '/__emulator/clock',
    ),
  gateway: () =>
    startService('payment-gateway', 'services/payment-gateway/dist/server.js', gatewayEnv, ports.gateway, '/ready'),
  agent: () => startService('docker-agent', 'services/docker-agent/dist/server.js', agentEnv, ports.agent, '/ready'),
  anchor: (
    name: 'lookup-proxy' | 'lookup-required' | 'socket-proxy' | 'webhook-ingester',
    port: number,
    env: Record<string, string>,
  ) => startService(name, `bench/anchors/${name}.ts`, { ANCHOR_PORT: String(port), ...env }, port, '/ready'),
};

try {
  log('starting services');
  const emulator = await start.emulator();
  const gateway = await start.gateway(); // first start also applies the migrations
  const agent = await start.agent();
  services.push(emulator, gateway, agent);
  const lookupAnchor = await start.anchor('lookup-proxy', ports.lookupAnchor, { PORTONE_API_URL: emulator.url });
  const requiredAnchor = await start.anchor('lookup-required', ports.requiredAnchor, {
    PORTONE_API_URL: emulator.url,
    DATABASE_URL: dbUrl.toString(),
    ANCHOR_API_KEY: apiKey,
  });
  const socketAnchor = await start.anchor('socket-proxy', ports.socketAnchor, { DOCKER_SOCKET: dockerSocket });
  const webhookAnchor = await start.anchor('webhook-ingester', ports.webhookAnchor, { DATABASE_URL: dbUrl.toString() });
  services.push(lookupAnchor, requiredAnchor, socketAnchor, webhookAnchor);
  const front = await startFront({
    port: ports.front,
    gateway: `127.0.0.1:${ports.gateway}`,
    agent: `127.0.0.1:${ports.agent}`,
    dir: join(dir, 'front'),
  });
  services.push(front);
  await new Promise((r) => setTimeout(r, 1000));
  const idle = { gateway: rssMiB(gateway.pid), agent: rssMiB(agent.pid), emulator: rssMiB(emulator.pid) };

  if (runs('client')) {
    log('client: token single-flight and per-call overhead');
    rows.push(...(await benchClient(emulator, repeats)));
  }

  const rig = { emulator, gateway, apiKey, front, db, lookupAnchor, requiredAnchor, webhookAnchor };
  let gatewayPeak = rssMiB(gateway.pid);
  if (runs('gateway')) {
    log('gateway: lookups through gateway / nginx / emulator direct');
    const lookups = await benchLookups(rig, repeats, duration);
    rows.push(...lookups.rows);
    log('gateway: webhook storm');
    const webhooks = await benchWebhooks(rig, repeats, duration);
    rows.push(...webhooks.rows);
    gatewayPeak = Math.max(gatewayPeak, lookups.peakMiB, webhooks.peakMiB);
  }
  if (runs('outbox')) {
    log('gateway: notification outbox, one endpoint subscribed vs none');
    rows.push(...(await benchOutbox(rig, repeats, duration)));
  }

  let agentPeak = rssMiB(agent.pid);
  if (runs('agent')) {
    log('docker-agent: 100 containers, list/inspect/logs');
    await cleanup(docker);
    const ids = await setupContainers(docker, 100);
    const sampler = setInterval(() => {
      agentPeak = Math.max(agentPeak, rssMiB(agent.pid));
    }, 100);
    rows.push(...(await benchAgent({ agent, apiKey, socketAnchor }, docker, ids, repeats, duration)));
    clearInterval(sampler);
    await cleanup(docker);
  }

  rows.push(
    {
      section: 'memory',
      metric: 'payment-gateway RSS (MiB), idle / peak under load',
      value: `${idle.gateway.toFixed(0)} / ${gatewayPeak.toFixed(0)}`,
      target: '< 100 / < 256',
      met: idle.gateway < 100 && gatewayPeak < 256,
    },
    {
      section: 'memory',
      metric: 'docker-agent RSS (MiB), idle / peak under load',
      value: `${idle.agent.toFixed(0)} / ${agentPeak.toFixed(0)}`,
      target: '< 100 / < 256',
      met: idle.agent < 100 && agentPeak < 256,
    },
    { section: 'memory', metric: 'portone-emulator RSS (MiB), idle', value: idle.emulator.toFixed(0) },
  );

  await front.stop();
  for (const s of [gateway, agent]) await s.stop();
  if (runs('start-up')) {
    log('start-up time to ready');
    const readyTimes: Record<'gateway' | 'agent', number[]> = { gateway: [], agent: [] };
    for (let r = 0; r < repeats; r++) {
      for (const name of ['gateway', 'agent'] as const) {
        const s = await start[name]();
        services.push(s);
        readyTimes[name].push(s.readyMs);
        await s.stop();
      }
    }
    rows.push(
      {
        section: 'start-up',
        metric: 'payment-gateway: process start to /ready (ms, migrated MariaDB)',
        value: median(readyTimes.gateway).toFixed(0),
        target: '< 1000',
        met: median(readyTimes.gateway) < 1000,
      },
      {
        section: 'start-up',
        metric: 'docker-agent: process start to /ready (ms)',
        value: median(readyTimes.agent).toFixed(0),
        target: '< 1000',
        met: median(readyTimes.agent) < 1000,
      },
    );
  }
} finally {
  await tearDown();
}

const table = markdownTable(rows);
if (only !== undefined) {
  console.info(`\n${table}\n\nBENCH_ONLY=${only.join(',')}: a partial run, bench/RESULTS.md left as it was`);
  process.exit(0);
}
const mariadbVersion = execFileSync('mariadb', ['--version'], { encoding: 'utf8' }).trim();
// `mariadb  Ver 15.1 Distrib 10.11.19-MariaDB, for debian-linux-gnu …`: the server version is what matters.
const mariadb = `MariaDB ${/Distrib ([^\s,]+)/.exec(mariadbVersion)?.[1]?.replace(/-MariaDB$/, '') ?? mariadbVersion}`;
const report = `# Benchmark results

Written by \`pnpm bench\` (bench/run.ts) on ${new Date().toISOString()}. Every ratio compares figures
measured side by side in this one run: ${repeats} repeats, ours and the anchor running in turns within
each and taking turns to go first (${duration} s per load run, autocannon with 16 connections, services as
separate processes on loopback; webhook storms, list, inspect and log streams after one unrecorded run of each side, lookups after three, as a
service's first seconds of load run code V8 has not optimised yet). A ratio is taken within each repeat, so a change in the machine's speed
between repeats falls on both sides of it. The side going second runs slower, so the ratio a target is
checked on is the median over pairs of consecutive repeats (one of each order) of the pair's geometric
mean; the figures beside it are each side's median.
Our services run as deployed: API keys on, info logging, MariaDB store, PortOne call audit. Each anchor
(bench/anchors/) is a bare Fastify service doing the same job: a lookup proxy (one undici Pool, one
token, JSON through), a Docker socket proxy (undici on the socket, JSON through), a webhook ingester
(mysql2, one INSERT per delivery, acknowledged after commit). One more anchor is the lookup proxy with
only the work a lookup is required to do added (API key, validation, store kept current, audit rows,
two info lines), measured against the bare proxy: the most a service doing that work reached here.

Machine: ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, ${mariadb}, nginx, Docker engine on the local socket.
Load average (1 min) at start / end of the run: ${loadAtStart.toFixed(1)} / ${(loadavg()[0] ?? Number.NaN).toFixed(1)}; above the core count, other work was competing and the ratios are noisy.
A missed target says **MISSED** and stays here until it is met; the rows after it without a target
say what this run measured about why (each repeat's ratio and the best; for a lookup and an inspect, each process's
CPU per request, whose sums the throughput ratio follows; for a lookup, the required-work anchor; for an inspect,
the least CPU its required work adds beyond the anchor, each piece timed alone, against what the target leaves of the
anchor's sum; for a log stream, each process's CPU).

${table}
`;
// scripts/compose-e2e.sh keeps its image sizes and start times below this marker; they stay.
const previous = readFileSync(join(ROOT, 'bench/RESULTS.md'), 'utf8');
const marker = previous.indexOf('<!-- compose-e2e -->');
writeFileSync(join(ROOT, 'bench/RESULTS.md'), marker >= 0 ? `${report}\n${previous.slice(marker)}` : report);
console.info(`\n${table}\n\nwritten to bench/RESULTS.md`);
