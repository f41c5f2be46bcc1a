/**
 * Local mode (no API keys) through the real nginx front: only a client on this machine gets in. A
 * client nginx sees on a non-loopback address is refused by both services even though the hop that
 * reaches them (nginx) is loopback, and so is a browser page's request (foreign Host or Origin). The
 * non-loopback client is this machine calling one of its own non-loopback addresses: the kernel then
 * uses that address as the source, so nginx's $remote_addr is not loopback (127.0.0.2 would be).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type RunningEmulator, startEmulator } from '@repo/portone-emulator';
import { dockerEngine, freePort, freshDatabase, mariadb, realService } from '@repo/test-support';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nginxAvailable, type RunningFront, startFront } from '../../scripts/front.ts';
import { startAgent, startGateway } from './apps.ts';

const exec = promisify(execFile);

const mysql = await mariadb();
const docker = await dockerEngine();
const nginx = await realService('nginx', async () => {
  if (!nginxAvailable()) throw new Error('no nginx binary on PATH');
  return true;
});
const outside = await realService('a non-loopback IPv4 address on this machine', async () => {
  const address = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
  if (!address) throw new Error('no non-loopback interface');
  return address;
});

interface Answer {
  status: number;
  body: { code?: string; detail?: string };
}

/** curl, as the seed documents call the front: it sends no Origin. */
async function curl(url: string, options: { method?: string; headers?: Record<string, string> } = {}) {
  const args = ['-s', '-o', '-', '-w', '\n%{http_code}', '-X', options.method ?? 'GET'];
  for (const [name, value] of Object.entries(options.headers ?? {})) args.push('-H', `${name}: ${value}`);
  if (options.method === 'POST') args.push('-H', 'Content-Type: application/json', '-d', '{}');
  const { stdout } = await exec('curl', [...args, url]);
  const at = stdout.lastIndexOf('\n');
  const text = stdout.slice(0, at);
  return { status: Number(stdout.slice(at + 1)), body: (text ? JSON.parse(text) : {}) as Answer['body'] };
}

describe.runIf(mysql && docker && nginx && outside)('local mode through the nginx front', () => {
  const dir = mkdtempSync(join(tmpdir(), 'front-local-'));
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let emulator: RunningEmulator;
  let gateway: FastifyInstance;
  let agent: FastifyInstance;
  /** nginx on loopback, and the same front on a non-loopback address of this machine. */
  let front: RunningFront;
  let remoteFront: RunningFront;

  beforeAll(async () => {
    database = await freshDatabase(mysql as string, 'e2e_local');
    emulator = await startEmulator({ port: 0, clock: 'manual' });
    // No API keys (local mode); the one extra host name checks the variable reaches each service.
    const env = { LOCAL_MODE_HOSTS: 'stack.internal' };
    const g = await startGateway({ databaseUrl: database.url, emulator, logName: 'front-local-gateway', env });
    const a = await startAgent({ dir, logName: 'front-local-agent', env });
    gateway = g.app;
    agent = a.app;
    const upstreams = { gateway: g.upstream, agent: a.upstream };
    front = await startFront({ port: await freePort(), ...upstreams, dir: join(dir, 'front') });
    remoteFront = await startFront({
      host: outside as string,
      port: await freePort(),
      ...upstreams,
      dir: join(dir, 'front-remote'),
    });
  }, 60_000);

  afterAll(async () => {
    await front?.stop();
    await remoteFront?.stop();
    await gateway?.close();
    await agent?.close();
    await emulator?.close();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const routes = [
    ['GET', '/api/v1/payments'],
    ['GET', '/api/v1/containers'],
    ['GET', '/api/v1/system/version'],
  ] as const;

  it('answers curl on loopback, the way the seed documents call http://localhost:8080', async () => {
    for (const [method, path] of routes) {
      expect((await curl(`${front.url}${path}`, { method, headers: { Host: 'localhost:8080' } })).status, path).toBe(
        200,
      );
    }
    // An operator-configured name (LOCAL_MODE_HOSTS) is as good as localhost.
    for (const [method, path] of routes) {
      expect((await curl(`${front.url}${path}`, { method, headers: { Host: 'stack.internal' } })).status, path).toBe(
        200,
      );
    }
  });

  it('refuses a client nginx saw on a non-loopback address, whatever X-Forwarded-For it sends', async () => {
    const forged: Record<string, string>[] = [{}, { 'X-Forwarded-For': '127.0.0.1' }, { 'X-Real-IP': '127.0.0.1' }];
    for (const headers of forged) {
      for (const [method, path] of [...routes, ['POST', '/api/v1/payments/cancel'] as const]) {
        const answer = await curl(`${remoteFront.url}${path}`, {
          method,
          headers: { Host: 'localhost:8080', ...headers },
        });
        expect({ path, headers, ...answer }).toMatchObject({
          path,
          status: 403,
          body: { code: 'FORBIDDEN', detail: expect.stringContaining(`${outside} is not on loopback`) },
        });
      }
    }
    // What nginx saw really was that address (its access log starts with $remote_addr).
    const seen = readFileSync(remoteFront.accessLog, 'utf8').trim().split('\n');
    expect(seen.length).toBeGreaterThan(0);
    for (const line of seen) expect(line.startsWith(`${outside} `), line).toBe(true);
    // Public routes still answer anyone (PortOne's webhook reaches the gateway the same way).
    expect((await curl(`${remoteFront.url}/api/v1/docs/gateway/json`)).status).toBe(200);
  });

  it('refuses a page on another site or a rebound DNS name, through the front on loopback', async () => {
    for (const [method, path] of routes) {
      const rebound = await curl(`${front.url}${path}`, { method, headers: { Host: 'attacker.example:8080' } });
      expect({ path, ...rebound }).toMatchObject({ path, status: 403, body: { code: 'FORBIDDEN' } });
    }
    for (const path of ['/api/v1/payments/cancel', '/api/v1/containers']) {
      const crossSite = await curl(`${front.url}${path}`, {
        method: 'POST',
        headers: { Host: 'localhost:8080', Origin: 'https://attacker.example' },
      });
      expect({ path, ...crossSite }).toMatchObject({
        path,
        status: 403,
        body: { code: 'FORBIDDEN', detail: expect.stringContaining('Origin') },
      });
      // The same request from a page on this machine (the API docs' "try it out") gets through auth:
      // whatever the service then thinks of the empty body, it is not a 401/403.
      const sameSite = await curl(`${front.url}${path}`, {
        method: 'POST',
        headers: { Host: 'localhost:8080', Origin: 'http://localhost:8080' },
      });
      expect([401, 403], `${path}: ${JSON.stringify(sameSite)}`).not.toContain(sameSite.status);
    }
  });
});
