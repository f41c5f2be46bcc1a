import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { dockerSocket, realService, TEST_LOG_LEVEL, testLogStream } from '@repo/test-support';
import type { FastifyInstance } from 'fastify';
import { type AppDeps, buildApp } from '../../src/app.ts';
import { type Config, parseConfig } from '../../src/config.ts';
import { createEngine, type DockerEngine } from '../../src/docker/engine.ts';

export const BUSYBOX = 'local/busybox:1';
export const SOCKET = dockerSocket();

/** The real engine, or undefined (tests skip) unless STACK_REQUIRE_SERVICES=1 makes it a failure. */
export async function requireEngine(): Promise<DockerEngine | undefined> {
  return realService('dockerd', async () => {
    const engine = createEngine({ socketPath: SOCKET });
    try {
      await engine.negotiate();
      await engine.inspectImage(BUSYBOX);
      return engine;
    } catch (error) {
      engine.close();
      throw error;
    }
  });
}

/** A config for tests: a private data directory, the test socket, quiet logs; `env` overrides. */
export function testConfig(env: Record<string, string> = {}): Config {
  const data = mkdtempSync(join(tmpdir(), 'docker-agent-test-'));
  return parseConfig({
    DOCKER_SOCKET: SOCKET,
    DOCKER_AGENT_AUDIT_FILE: join(data, 'audit.jsonl'),
    DOCKER_AGENT_COMPOSE_DIR: join(data, 'compose'),
    LOG_LEVEL: TEST_LOG_LEVEL,
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...env,
  });
}

export function makeApp(env: Record<string, string> = {}, deps: AppDeps = {}): Promise<FastifyInstance> {
  return buildApp(testConfig(env), { logStream: testLogStream('docker-agent'), ...deps });
}

/** Real HTTP on 127.0.0.1:0, for streams. */
export async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

/** Reads NDJSON lines from a fetch response as they arrive. */
export async function* ndjson(response: Response): AsyncGenerator<Record<string, unknown>> {
  const reader = response.body?.getReader();
  if (!reader) return;
  const decoder = new TextDecoder();
  let buffered = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffered += decoder.decode(value, { stream: true });
    let nl = buffered.indexOf('\n');
    while (nl >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line.trim()) yield JSON.parse(line) as Record<string, unknown>;
      nl = buffered.indexOf('\n');
    }
  }
  if (buffered.trim()) yield JSON.parse(buffered) as Record<string, unknown>;
}

export async function readAll(response: Response): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for await (const line of ndjson(response)) out.push(line);
  return out;
}

/** Removes everything a test file created whose name starts with `prefix`. */
export async function cleanup(engine: DockerEngine, prefix: string): Promise<void> {
  const containers = await engine.listContainers({ all: true, filters: { name: [prefix] } });
  await Promise.all(
    containers
      .filter((c) => c.Names.some((n) => n.replace(/^\//, '').startsWith(prefix)))
      .map((c) => engine.removeContainer(c.Id, { force: true, volumes: true }).catch(() => undefined)),
  );
  const volumes = await engine.listVolumes({ name: [prefix] });
  await Promise.all(
    volumes.filter((v) => v.Name.startsWith(prefix)).map((v) => engine.removeVolume(v.Name, true).catch(() => {})),
  );
  const networks = await engine.listNetworks({ name: [prefix] });
  await Promise.all(
    networks.filter((n) => n.Name.startsWith(prefix)).map((n) => engine.removeNetwork(n.Id).catch(() => {})),
  );
  const images = await engine.listImages({ all: false, filters: { reference: [`${prefix}*`] } });
  await Promise.all(
    images.map((i) => engine.removeImage(i.Id, { force: true, noprune: false }).catch(() => undefined)),
  );
}

export const json = (body: unknown) => ({
  headers: { 'content-type': 'application/json' },
  payload: JSON.stringify(body),
});

/**
 * Gives an image a tag of the test's own (`local/busybox:1` may carry others the test must not
 * assume or touch); remove it with `cleanup` (by prefix) or `removeImage(tag)`.
 */
export async function tagImage(source: string, target: string): Promise<void> {
  await promisify(execFile)('docker', ['-H', `unix://${SOCKET}`, 'tag', source, target], { timeout: 30_000 });
}

/**
 * Builds an image of the test's own from BUSYBOX (a label makes its id unique), so that no tag
 * another test or the operator gave `local/busybox:1` can change what the test sees.
 */
export async function buildOwnImage(tag: string): Promise<string> {
  const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) => {
    const child = execFile(
      'docker',
      ['-H', `unix://${SOCKET}`, 'build', '-q', '-t', tag, '-'],
      { timeout: 60_000 },
      (error, out) => (error ? reject(error) : resolve({ stdout: out })),
    );
    child.stdin?.end(`FROM ${BUSYBOX}\nLABEL test.image=${JSON.stringify(tag)}\n`);
  });
  return stdout.trim();
}
