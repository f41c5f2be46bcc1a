/**
 * `pnpm start` for real: the whole stack (emulator, gateway, agent, nginx) started from the sources
 * on free ports, used, then stopped by a signal to the orchestrator, to its process group, or to the
 * pnpm process above it. After each stop every port is free again and the exit is clean.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dockerSocket, freePort, realService } from '@repo/test-support';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { nginxAvailable } from '../../scripts/front.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const nginx = await realService('nginx', async () => {
  if (!nginxAvailable()) throw new Error('no nginx binary on PATH');
  return true;
});
const docker = await realService('Docker engine', async () => {
  const res = await request('http://docker/_ping', {
    dispatcher: new (await import('undici')).Agent({ connect: { socketPath: dockerSocket() } }),
  });
  await res.body.text();
  if (res.statusCode !== 200) throw new Error(`/_ping answered ${res.statusCode}`);
  return true;
});

const dataDir = mkdtempSync(join(tmpdir(), 'start-test-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

interface Stack {
  child: ChildProcess;
  ports: { front: number; demo: number; gateway: number; agent: number; emulator: number };
  output: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Starts `node scripts/start.ts` (or `pnpm start`) in a process group of its own; resolves when up. */
async function startStack(command: 'node' | 'pnpm', args: string[] = []): Promise<Stack> {
  const ports = {
    front: await freePort(),
    demo: await freePort(),
    gateway: await freePort(),
    agent: await freePort(),
    emulator: await freePort(),
  };
  const argv = command === 'node' ? ['scripts/start.ts', ...args] : ['start', ...args];
  const child = spawn(command === 'node' ? process.execPath : 'pnpm', argv, {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      FRONT_PORT: String(ports.front),
      FRONT_DEMO_PORT: String(ports.demo),
      GATEWAY_PORT: String(ports.gateway),
      DOCKER_AGENT_PORT: String(ports.agent),
      PORTONE_EMULATOR_PORT: String(ports.emulator),
      DOCKER_SOCKET: dockerSocket(),
      START_DATA_DIR: dataDir,
      FORCE_COLOR: '0',
    },
  });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const deadline = Date.now() + 90_000;
  while (!text.includes('Stack is up')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`stack did not come up:\n${text}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { child, ports, output: () => text, exit };
}

/** After a stop: the orchestrator exited 0, said so, and nothing it started still listens. */
async function expectStopped(stack: Stack): Promise<void> {
  const { code } = await stack.exit;
  // pnpm is gone too; give the orchestrator the time its own stop takes.
  const deadline = Date.now() + 30_000;
  while (!stack.output().includes('Stack stopped.') && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 100));
  expect(stack.output()).toContain('Stack stopped.');
  expect(stack.output()).not.toContain('ELIFECYCLE');
  expect(code).toBe(0);
  for (const [name, port] of Object.entries(stack.ports)) expect(await listening(port), name).toBe(false);
}

describe.runIf(nginx && docker)('pnpm start', () => {
  it('--seed-demo: the seed examples work as written, logs are readable, SIGINT to the group stops all', async () => {
    const stack = await startStack('node', ['--seed-demo']);
    try {
      const front = `http://127.0.0.1:${stack.ports.front}`;
      const payment = await fetch(`${front}/api/v1/payments/imp_123456789`, { headers: { 'x-request-id': 'seed-1' } });
      expect(payment.status).toBe(200);
      expect(payment.headers.get('x-request-id')).toBe('seed-1');
      expect(await payment.json()).toMatchObject({ imp_uid: 'imp_123456789', merchant_uid: 'order_20240101_001' });
      // The seed's Docker examples call http://localhost/ (the demo port here).
      expect((await fetch(`http://127.0.0.1:${stack.ports.demo}/api/v1/containers`)).status).toBe(200);
      // The emulator's clock is pinned to 2024-01-01 KST (and moves on in real time from there).
      const clock = (await (await fetch(`http://127.0.0.1:${stack.ports.emulator}/__emulator/clock`)).json()) as {
        now: number;
      };
      expect(clock.now).toBeGreaterThanOrEqual(1704034800);
      expect(clock.now).toBeLessThan(1704034800 + 3600);
      // A payment made now is still there after a restart (the emulator's state file).
      const kept = await fetch(`http://127.0.0.1:${stack.ports.emulator}/__emulator/checkout`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ merchant_uid: 'start-test-kept', imp_uid: 'imp_starttestkept', amount: 1000 }),
      });
      expect(((await kept.json()) as { code: number }).code).toBe(0);
      // Human-readable lines, no JSON, and no per-request access log by default.
      const logLines = stack
        .output()
        .split('\n')
        .filter((l) => /^\[(gateway|agent)\] /.test(l));
      expect(logLines.length).toBeGreaterThan(0);
      for (const line of logLines) expect(line).not.toMatch(/^\[\w+\] \{/);
      expect(stack.output()).not.toContain('incoming request');
      expect(stack.output()).not.toContain('Deprecation');
    } finally {
      if (stack.child.pid) process.kill(-stack.child.pid, 'SIGINT');
    }
    await expectStopped(stack);
  }, 150_000);

  it('SIGHUP to the orchestrator stops everything, and the emulator remembers its payments', async () => {
    const stack = await startStack('node', ['--seed-demo']);
    try {
      const kept = await fetch(`http://127.0.0.1:${stack.ports.emulator}/__emulator/payments/imp_starttestkept`);
      expect(kept.status).toBe(200);
    } finally {
      stack.child.kill('SIGHUP');
    }
    await expectStopped(stack);
  }, 150_000);

  it('pnpm start: SIGTERM to pnpm exits 0 without ELIFECYCLE; SIGHUP to pnpm still stops the stack', async () => {
    const first = await startStack('pnpm');
    first.child.kill('SIGTERM');
    await expectStopped(first);

    const second = await startStack('pnpm');
    second.child.kill('SIGHUP');
    // pnpm itself dies of SIGHUP (its own exit status); the orchestrator notices and stops the stack.
    await second.exit;
    const deadline = Date.now() + 30_000;
    for (const port of Object.values(second.ports)) {
      while ((await listening(port)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(await listening(port), String(port)).toBe(false);
    }
  }, 240_000);
});
