/**
 * `pnpm start [--seed-demo]`: the whole stack on one machine with embedded defaults — the PortOne
 * emulator (state kept in .data), the payment-gateway on SQLite, the docker-agent on the local Docker
 * socket (when there is one) and the nginx front on :8080 (when nginx is installed), run from the
 * TypeScript sources (no build step). Every port moves with the variables the services read.
 *
 * `--seed-demo` makes the seed documents' curl examples work as written: the emulator's clock starts
 * at 2024-01-01 KST (the examples are dated), the payment `imp_123456789` exists, and the front also
 * answers on :80 (FRONT_DEMO_PORT), where the Docker examples send their requests.
 *
 * Stopping: SIGINT, SIGTERM or SIGHUP to this process or to its process group (Ctrl-C, `kill`, a
 * closed terminal), or the death of its parent (`kill <pid of pnpm>`), stops nginx and every service,
 * then exits 0. The services run in process groups of their own so a signal to this group reaches
 * only this process, which stops them in order and waits for each.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';
import { prettyFactory } from 'pino-pretty';
import { stopChild } from './child.ts';
import { nginxAvailable, type RunningFront, startFront } from './front.ts';
import { imageRuntimeEnv } from './image-env.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
// The repository's .env, as each service reads it (through @fastify/env); the environment wins. An
// empty value (`PORTONE_IMP_KEY=` in a copy of .env.example) counts as unset, as it does in the services.
const envFile = `${root}.env`;
const fromFile = existsSync(envFile) ? parseEnv(readFileSync(envFile, 'utf8')) : {};
const env: NodeJS.ProcessEnv = {
  ...Object.fromEntries(Object.entries(fromFile).filter(([, value]) => value !== '')),
  ...process.env,
};
const args = process.argv.slice(2);
const unknown = args.filter((a) => a !== '--seed-demo');
if (unknown.length > 0) {
  console.error(`start: unknown argument ${unknown.join(' ')} (the only option is --seed-demo)`);
  process.exit(2);
}
const seedDemo = args.includes('--seed-demo');
/** 2024-01-01T00:00:00+09:00: the day the seed documents' examples are written for. */
const SEED_NOW = '1704034800';
const SEED_PAYMENT = { merchant_uid: 'order_20240101_001', imp_uid: 'imp_123456789', amount: 10000 };

const ports = {
  front: Number(env.FRONT_PORT ?? 8080),
  demo: Number(env.FRONT_DEMO_PORT ?? 80),
  gateway: Number(env.GATEWAY_PORT ?? 3001),
  agent: Number(env.DOCKER_AGENT_PORT ?? 3002),
  emulator: Number(env.PORTONE_EMULATOR_PORT ?? 3003),
};
const dockerSocket = env.DOCKER_SOCKET ?? '/var/run/docker.sock';
const haveNginx = nginxAvailable();
const haveDocker = existsSync(dockerSocket);
const dataDir = env.START_DATA_DIR ?? `${root}.data`;
mkdirSync(dataDir, { recursive: true });
// The seed demo's clock is pinned to 2024: its PortOne state is kept apart from a normal run's.
const emulatorStateFile =
  env.PORTONE_EMULATOR_STATE_FILE ?? `${dataDir}/portone-emulator${seedDemo ? '-seed-demo' : ''}.json`;

/** Something already listening would answer the health checks below in place of what we start. */
async function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
// Below 1024 only root may listen; elsewhere the banner says what to use instead.
const demoPort = seedDemo && haveNginx && (ports.demo >= 1024 || process.getuid?.() === 0) ? ports.demo : undefined;
const wanted: [string, number, string][] = [
  ['PortOne emulator', ports.emulator, 'PORTONE_EMULATOR_PORT'],
  ['payment-gateway', ports.gateway, 'GATEWAY_PORT'],
  ...(haveDocker ? [['docker-agent', ports.agent, 'DOCKER_AGENT_PORT'] as [string, number, string]] : []),
  ...(haveNginx ? [['nginx front', ports.front, 'FRONT_PORT'] as [string, number, string]] : []),
  ...(demoPort ? [['nginx front (seed demo)', demoPort, 'FRONT_DEMO_PORT'] as [string, number, string]] : []),
];
const busy: string[] = [];
for (const [name, port, variable] of wanted) {
  if (await portInUse(port)) busy.push(`${name}: port ${port} is already in use (set ${variable} to move it)`);
}
if (busy.length > 0) {
  console.error(`start failed:\n  ${busy.join('\n  ')}`);
  process.exit(1);
}

// The services log JSON (what production wants); here each line is made readable for a person.
const pretty = prettyFactory({
  colorize: process.stdout.isTTY === true,
  translateTime: 'SYS:HH:MM:ss',
  ignore: 'pid,hostname,name',
  singleLine: true,
});
function show(name: string, line: string): void {
  let text = line;
  if (line.startsWith('{')) {
    try {
      text = pretty(JSON.parse(line)).trimEnd();
    } catch {
      // not a log object: print as is
    }
  }
  console.log(`[${name}] ${text}`);
}

const children: { name: string; child: ChildProcess }[] = [];
const fronts: RunningFront[] = [];
let stopping: Promise<never> | undefined;

function run(name: string, script: string, extraEnv: Record<string, string>): void {
  const child = spawn(process.execPath, ['--conditions=development', script], {
    cwd: root,
    env: { ...env, LOG_REQUESTS: env.LOG_REQUESTS ?? 'false', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) createInterface({ input: stream }).on('line', (line) => show(name, line));
  }
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`[${name}] exited (${signal ?? code}); stopping the stack`);
      void stop(1);
    }
  });
  children.push({ name, child });
}

async function waitHealthy(name: string, url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (stopping) return;
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${name} did not become healthy at ${url}`);
}

/** Front first (no new requests), then every service; each gets 15 s before it is killed. */
function stop(code: number): Promise<never> {
  stopping ??= (async () => {
    await Promise.all(fronts.map((f) => f.stop()));
    await Promise.all(
      children.map(async ({ name, child }) => {
        const timer = setTimeout(() => {
          console.error(`[${name}] did not stop within 15 s; killing it`);
          child.kill('SIGKILL');
        }, 15_000);
        await stopChild(child);
        clearTimeout(timer);
      }),
    );
    console.info(code === 0 ? 'Stack stopped.' : 'Stack stopped after a failure.');
    process.exit(code);
  })();
  return stopping;
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop(0));
// `kill <pid of pnpm>`: pnpm dies without passing every signal on; we notice by being re-parented.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) void stop(0);
}, 500).unref();

const frontUrl = `http://localhost:${ports.front}`;
// PortOne reaches the webhook through the reverse proxy, as it would in production.
const webhookUrl = haveNginx
  ? `http://127.0.0.1:${ports.front}/api/v1/webhooks/portone`
  : `http://127.0.0.1:${ports.gateway}/api/v1/webhooks/portone`;

run('emulator', 'packages/portone-emulator/src/cli.ts', {
  PORTONE_EMULATOR_PORT: String(ports.emulator),
  PORTONE_EMULATOR_WEBHOOK_URL: env.PORTONE_EMULATOR_WEBHOOK_URL ?? webhookUrl,
  PORTONE_EMULATOR_STATE_FILE: emulatorStateFile,
  ...(seedDemo ? { PORTONE_EMULATOR_NOW: env.PORTONE_EMULATOR_NOW ?? SEED_NOW } : {}),
});
run('gateway', 'services/payment-gateway/src/server.ts', {
  GATEWAY_PORT: String(ports.gateway),
  GATEWAY_HOST: env.GATEWAY_HOST ?? '127.0.0.1',
  DATABASE_URL: env.DATABASE_URL ?? `sqlite:${dataDir}/payment-gateway.sqlite`,
  PORTONE_API_URL: env.PORTONE_API_URL ?? `http://127.0.0.1:${ports.emulator}`,
  // Each service reads API_KEYS; the stack-level names keep the two sets apart (as in compose).
  API_KEYS: env.GATEWAY_API_KEYS ?? '',
  // As services/payment-gateway/Dockerfile runs it.
  ...imageRuntimeEnv('payment-gateway'),
});
if (haveDocker) {
  run('agent', 'services/docker-agent/src/server.ts', {
    DOCKER_AGENT_PORT: String(ports.agent),
    DOCKER_AGENT_HOST: env.DOCKER_AGENT_HOST ?? '127.0.0.1',
    API_KEYS: env.DOCKER_AGENT_API_KEYS ?? '',
    // As services/docker-agent/Dockerfile runs it.
    ...imageRuntimeEnv('docker-agent'),
  });
}

/** The payment the seed's `GET /payments/imp_123456789` reads: paid in the emulator's checkout. */
async function seedPayment(): Promise<void> {
  const base = `http://127.0.0.1:${ports.emulator}/__emulator`;
  if ((await fetch(`${base}/payments/${SEED_PAYMENT.imp_uid}`)).ok) return; // kept from an earlier run
  const res = await fetch(`${base}/checkout`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(SEED_PAYMENT),
  });
  const body = (await res.json()) as { code: number; message: string | null };
  if (body.code !== 0) throw new Error(`could not create ${SEED_PAYMENT.imp_uid}: ${body.message}`);
}

try {
  await waitHealthy('emulator', `http://127.0.0.1:${ports.emulator}/__emulator/clock`);
  await waitHealthy('payment-gateway', `http://127.0.0.1:${ports.gateway}/ready`);
  if (haveDocker) await waitHealthy('docker-agent', `http://127.0.0.1:${ports.agent}/health`);
  if (seedDemo) await seedPayment();
  const upstreams = { gateway: `127.0.0.1:${ports.gateway}`, agent: `127.0.0.1:${ports.agent}` };
  if (haveNginx) fronts.push(await startFront({ port: ports.front, ...upstreams, dir: `${dataDir}/front` }));
  if (demoPort) fronts.push(await startFront({ port: demoPort, ...upstreams, dir: `${dataDir}/front-demo` }));
} catch (error) {
  console.error(`start failed: ${(error as Error).message}`);
  await stop(1);
}

const apiBase = haveNginx ? `${frontUrl}/api/v1` : undefined;
const lines = [
  '',
  'Stack is up (Ctrl-C stops it):',
  haveNginx
    ? `  front (nginx)      ${frontUrl}/api/v1   health ${frontUrl}/health`
    : '  front (nginx)      not started: nginx is not installed (services answer on their own ports)',
  `  payment-gateway    http://localhost:${ports.gateway}/api/v1   docs ${apiBase ?? `http://localhost:${ports.gateway}/api/v1`}/docs/gateway`,
  haveDocker
    ? `  docker-agent       http://localhost:${ports.agent}/api/v1   docs ${apiBase ?? `http://localhost:${ports.agent}/api/v1`}/docs/agent`
    : `  docker-agent       not started: no Docker socket at ${dockerSocket}`,
  `  PortOne emulator   http://localhost:${ports.emulator}   control API /__emulator (see packages/portone-emulator/README.md)`,
  `                     state kept in ${emulatorStateFile} (delete it to start PortOne empty)`,
  `  database           ${env.DATABASE_URL ?? `SQLite at ${dataDir}/payment-gateway.sqlite`}`,
  `  metrics            http://localhost:${ports.gateway}/metrics${haveDocker ? `, http://localhost:${ports.agent}/metrics` : ''} (not through the front)`,
  `  logs               one line per request: LOG_REQUESTS=true pnpm start`,
  ...(seedDemo
    ? [
        `  seed demo          emulator clock from 2024-01-01 KST, payment ${SEED_PAYMENT.imp_uid} exists`,
        demoPort
          ? `                     front also on http://localhost${demoPort === 80 ? '' : `:${demoPort}`}/ for the Docker examples`
          : `                     the Docker examples' http://localhost/ needs port ${ports.demo}: run as root, or use ${frontUrl}/`,
      ]
    : []),
  '',
];
console.info(lines.join('\n'));
