import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { REGISTRY } from './registry.ts';

/**
 * Real-service probes for tests. A test that needs MariaDB, dockerd or nginx asks for it here; when
 * the service is missing the test is skipped with a visible reason, unless STACK_REQUIRE_SERVICES=1
 * (set by .ci/run), where a missing service fails the run instead of skipping it.
 */
export const REQUIRE_SERVICES = process.env.STACK_REQUIRE_SERVICES === '1';

export async function realService<T>(name: string, probe: () => Promise<T>): Promise<T | undefined> {
  try {
    return await probe();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (REQUIRE_SERVICES) {
      throw new Error(`${name} is required (STACK_REQUIRE_SERVICES=1) but not reachable: ${reason}`);
    }
    console.warn(`[test-support] skipping ${name} tests: ${reason}`);
    return undefined;
  }
}

/** Where the tests find MariaDB/MySQL: TEST_MYSQL_URL, else the user scripts/services.sh creates. */
export function mysqlUrl(): string {
  return process.env.TEST_MYSQL_URL ?? 'mysql://stack:stack@127.0.0.1:3306';
}

/** Where the tests find the Docker engine. */
export function dockerSocket(): string {
  return process.env.TEST_DOCKER_SOCKET ?? '/var/run/docker.sock';
}

/**
 * A log destination for a test app when the run collects logs (STACK_TEST_LOG_DIR, set by the root
 * global setup, whose teardown fails the run if any secret reached a log). Undefined otherwise.
 * Lines are appended synchronously so none is lost when a worker ends.
 */
export function testLogStream(service: string): { write(line: string): void } | undefined {
  const dir = process.env.STACK_TEST_LOG_DIR;
  if (!dir) return undefined;
  const file = join(dir, `${service}-${process.pid}-${randomUUID().slice(0, 8)}.log`);
  return { write: (line: string) => appendFileSync(file, line) };
}

/** The log level test apps use: `debug` while logs are collected for the secret scan, else silent. */
export const TEST_LOG_LEVEL = process.env.STACK_TEST_LOG_DIR ? 'debug' : 'silent';
export { freePort, freshRequest } from './net.ts';
export { REGISTRY, REGISTRY_IDENTITY_TOKEN, REGISTRY_NOBODY, REGISTRY_USER } from './registry.ts';

/** The two registries and the token issuer scripts/services.sh starts (`registry`), or undefined (skip). */
export async function requireRegistries(): Promise<true | undefined> {
  return realService('docker registries (scripts/services.sh registry)', async () => {
    for (const host of [REGISTRY.basic, REGISTRY.token]) {
      const res = await fetch(`http://${host}/v2/`);
      await res.arrayBuffer();
      if (res.status !== 401) throw new Error(`${host}/v2/ answered ${res.status}, not 401`);
    }
    const stats = await fetch(`http://${REGISTRY.issuer}/stats`);
    await stats.arrayBuffer();
    if (!stats.ok) throw new Error(`token issuer on ${REGISTRY.issuer} answered ${stats.status}`);
    return true as const;
  });
}
