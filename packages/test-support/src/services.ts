import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

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
