/**
 * Runs the repo's nginx front (deploy/nginx/default.conf.template) outside Docker: renders the
 * template the way the nginx image's entrypoint does, writes a minimal main config into a private
 * prefix directory and starts `nginx -g 'daemon off;'` as a child process.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { ended, stopChild } from './child.ts';

export interface FrontOptions {
  port: number;
  /** The address nginx listens on (default 127.0.0.1). */
  host?: string;
  gateway: string; // host:port
  agent: string; // host:port
  /** Where nginx keeps its pid, logs and temp files. */
  dir: string;
  nginxBin?: string;
}

export interface RunningFront {
  url: string;
  accessLog: string;
  stop(): Promise<void>;
}

const TEMPLATE = new URL('../deploy/nginx/default.conf.template', import.meta.url);

export function renderFrontConfig(vars: Record<string, string>): string {
  return readFileSync(TEMPLATE, 'utf8').replace(/\$\{([A-Z_]+)\}/g, (whole, name: string) => vars[name] ?? whole);
}

/**
 * An upstream group for one service with idle connections kept for reuse. Idle connections are
 * closed after 60 s (nginx's keepalive_timeout), before the services' own 72 s (Fastify's default),
 * so nginx never reuses a connection the service is closing.
 */
function upstreamGroup(name: string, address: string): string {
  return `upstream ${name} {\n    server ${address};\n    keepalive 16;\n    keepalive_timeout 60s;\n}`;
}

export function nginxAvailable(bin = 'nginx'): boolean {
  return spawnSync(bin, ['-v'], { stdio: 'ignore' }).status === 0;
}

function waitForPort(host: string, port: number, child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (ended(child)) return reject(new Error(`nginx exited (${child.exitCode ?? child.signalCode})`));
      const socket = connect(port, host);
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`nginx did not listen on ${port}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

export async function startFront(options: FrontOptions): Promise<RunningFront> {
  const dir = options.dir;
  const host = options.host ?? '127.0.0.1';
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  const accessLog = join(dir, 'access.log');
  writeFileSync(
    join(dir, 'front.conf'),
    renderFrontConfig({
      FRONT_PORT: `${host}:${options.port}`,
      // Fixed addresses: upstream groups with kept-alive connections (see the template's header).
      FRONT_UPSTREAMS: [
        upstreamGroup('payment_gateway', options.gateway),
        upstreamGroup('docker_agent', options.agent),
      ].join('\n'),
      PAYMENT_GATEWAY_UPSTREAM: 'payment_gateway',
      DOCKER_AGENT_UPSTREAM: 'docker_agent',
    }),
  );
  writeFileSync(
    join(dir, 'nginx.conf'),
    [
      'worker_processes 1;',
      `pid ${join(dir, 'nginx.pid')};`,
      `error_log ${join(dir, 'error.log')} warn;`,
      'events { worker_connections 1024; }',
      'http {',
      `  access_log ${accessLog};`,
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${join(dir, 'tmp', t)};`),
      `  include ${join(dir, 'front.conf')};`,
      '}',
      '',
    ].join('\n'),
  );
  const child = spawn(options.nginxBin ?? 'nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  try {
    await waitForPort(host, options.port, child);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}: ${stderr.trim()}`);
  }
  return {
    url: `http://${host}:${options.port}`,
    accessLog,
    stop: () => stopChild(child, 'SIGQUIT'),
  };
}
