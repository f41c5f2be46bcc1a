/**
 * The runtime settings a service's image sets in its Dockerfile (`ENV`: V8 flags, malloc arenas), for
 * the processes `pnpm start` and `pnpm bench` run outside Docker: they run the service as deployed,
 * with the Dockerfile the one place the settings are written.
 */
import { readFileSync } from 'node:fs';

const RUNTIME = new Set(['NODE_OPTIONS', 'MALLOC_ARENA_MAX']);

export function imageRuntimeEnv(service: 'payment-gateway' | 'docker-agent'): Record<string, string> {
  const dockerfile = readFileSync(new URL(`../services/${service}/Dockerfile`, import.meta.url), 'utf8');
  const env: Record<string, string> = {};
  for (const line of dockerfile.match(/^ENV .*$/gm) ?? []) {
    for (const [, name = '', value = ''] of line.matchAll(/(\w+)=("[^"]*"|\S+)/g)) {
      if (RUNTIME.has(name)) env[name] = value.replace(/^"(.*)"$/, '$1');
    }
  }
  return env;
}
