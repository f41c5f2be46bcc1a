/**
 * .env.example lists every variable the stack reads — each service's config schema, the emulator's
 * CLI, docker-compose.yml and `pnpm start` — as `NAME=` or, for a default shown only, `# NAME=`.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigSchema as AgentConfigSchema } from '../../services/docker-agent/src/config.ts';
import { ConfigSchema } from '../../services/payment-gateway/src/config.ts';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const example = read('.env.example');
const listed = new Set([...example.matchAll(/^(?:# )?([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]));
/** Each service reads API_KEYS; the stack names the two sets apart (compose and pnpm start map them). */
const stackName = (service: string, name: string) => (name === 'API_KEYS' ? `${service}_API_KEYS` : name);

describe('.env.example', () => {
  const sources: Record<string, string[]> = {
    'payment-gateway config': Object.keys(ConfigSchema.shape).map((n) => stackName('GATEWAY', n)),
    'docker-agent config': Object.keys(AgentConfigSchema.shape).map((n) => stackName('DOCKER_AGENT', n)),
    'portone-emulator CLI': [
      ...read('packages/portone-emulator/src/cli.ts').matchAll(/^ {2}(PORTONE_EMULATOR_\w+):/gm),
    ].map((m) => m[1] as string),
    'docker-compose.yml': [...read('docker-compose.yml').matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1] as string),
    'scripts/start.ts': [...read('scripts/start.ts').matchAll(/\benv\.([A-Z][A-Z0-9_]*)/g)].map((m) => m[1] as string),
  };

  it.each(Object.entries(sources))('lists every variable %s reads', (_source, names) => {
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((name) => !listed.has(name))).toEqual([]);
  });

  it('calls nothing a safe default', () => {
    expect(example).not.toMatch(/safe default/i);
  });
});
