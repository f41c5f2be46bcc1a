/**
 * `pnpm start`: the whole stack on one machine with embedded defaults — the PortOne emulator, the
 * payment-gateway on SQLite, the docker-agent on the local Docker socket (when there is one) and the
 * nginx front on :8080 (when nginx is installed). Ctrl-C stops everything.
 * Every port can be moved with the same variables the services read (see .env.example).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { nginxAvailable, type RunningFront, startFront } from './front.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const env = process.env;
const ports = {
  front: Number(env.FRONT_PORT ?? 8080),
  gateway: Number(env.GATEWAY_PORT ?? 3001),
  agent: Number(env.DOCKER_AGENT_PORT ?? 3002),
  emulator: Number(env.PORTONE_EMULATOR_PORT ?? 3003),
};
const dockerSocket = env.DOCKER_SOCKET ?? '/var/run/docker.sock';
const haveNginx = nginxAvailable();
const haveDocker = existsSync(dockerSocket);
const dataDir = `${root}.data`;
mkdirSync(dataDir, { recursive: true });

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
const wanted: [string, number, string][] = [
  ['PortOne emulator', ports.emulator, 'PORTONE_EMULATOR_PORT'],
  ['payment-gateway', ports.gateway, 'GATEWAY_PORT'],
  ...(haveDocker ? [['docker-agent', ports.agent, 'DOCKER_AGENT_PORT'] as [string, number, string]] : []),
  ...(haveNginx ? [['nginx front', ports.front, 'FRONT_PORT'] as [string, number, string]] : []),
];
const busy: string[] = [];
for (const [name, port, variable] of wanted) {
  if (await portInUse(port)) busy.push(`${name}: port ${port} is already in use (set ${variable} to move it)`);
}
if (busy.length > 0) {
  console.error(`start failed:\n  ${busy.join('\n  ')}`);
  process.exit(1);
}

const children: ChildProcess[] = [];
let front: RunningFront | undefined;
let stopping = false;

function run(name: string, script: string, extraEnv: Record<string, string>): void {
  const child = spawn(process.execPath, [script], {
    cwd: root,
    env: { ...env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) createInterface({ input: stream }).on('line', (line) => console.log(`[${name}] ${line}`));
  }
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`[${name}] exited (${signal ?? code}); stopping the stack`);
      void stop(1);
    }
  });
  children.push(child);
}

async function waitHealthy(name: string, url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
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

async function stop(code: number): Promise<never> {
  stopping = true;
  await front?.stop();
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(
    children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : Promise.resolve())),
  );
  process.exit(code);
}
process.once('SIGINT', () => void stop(0));
process.once('SIGTERM', () => void stop(0));

const frontUrl = `http://localhost:${ports.front}`;
// PortOne reaches the webhook through the reverse proxy, as it would in production.
const webhookUrl = haveNginx
  ? `http://127.0.0.1:${ports.front}/api/v1/webhooks/portone`
  : `http://127.0.0.1:${ports.gateway}/api/v1/webhooks/portone`;

run('emulator', 'packages/portone-emulator/dist/cli.js', {
  PORTONE_EMULATOR_PORT: String(ports.emulator),
  PORTONE_EMULATOR_WEBHOOK_URL: env.PORTONE_EMULATOR_WEBHOOK_URL ?? webhookUrl,
});
run('gateway', 'services/payment-gateway/dist/server.js', {
  GATEWAY_PORT: String(ports.gateway),
  GATEWAY_HOST: env.GATEWAY_HOST ?? '127.0.0.1',
  DATABASE_URL: env.DATABASE_URL ?? `sqlite:${dataDir}/payment-gateway.sqlite`,
  PORTONE_API_URL: env.PORTONE_API_URL ?? `http://127.0.0.1:${ports.emulator}`,
  // Each service reads API_KEYS; the stack-level names keep the two sets apart (as in compose).
  API_KEYS: env.GATEWAY_API_KEYS ?? '',
});
if (haveDocker) {
  run('agent', 'services/docker-agent/dist/server.js', {
    DOCKER_AGENT_PORT: String(ports.agent),
    DOCKER_AGENT_HOST: env.DOCKER_AGENT_HOST ?? '127.0.0.1',
    API_KEYS: env.DOCKER_AGENT_API_KEYS ?? '',
  });
}

try {
  await waitHealthy('emulator', `http://127.0.0.1:${ports.emulator}/__emulator/clock`);
  await waitHealthy('payment-gateway', `http://127.0.0.1:${ports.gateway}/ready`);
  if (haveDocker) await waitHealthy('docker-agent', `http://127.0.0.1:${ports.agent}/health`);
  if (haveNginx) {
    front = await startFront({
      port: ports.front,
      gateway: `127.0.0.1:${ports.gateway}`,
      agent: `127.0.0.1:${ports.agent}`,
      dir: `${dataDir}/front`,
    });
  }
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
  `  database           ${env.DATABASE_URL ?? `SQLite at ${dataDir}/payment-gateway.sqlite`}`,
  '',
];
console.info(lines.join('\n'));
