/**
 * The gateway's memory settings (services/payment-gateway/Dockerfile explains them) are the same
 * wherever it runs: its image, its package's start script, `pnpm start` and `pnpm bench`, so the
 * bench measures what is deployed.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const flags = (text: string | undefined) => (text ?? '').match(/--max-[a-z-]+-size=\d+/g)?.sort() ?? [];

const dockerfile = read('services/payment-gateway/Dockerfile');
const imageEnv = /^ENV .*$/m.exec(dockerfile)?.[0];
const startScript = (JSON.parse(read('services/payment-gateway/package.json')) as { scripts: { start: string } })
  .scripts.start;
/** The object of environment variables the gateway is started with, from `gatewayEnv = {` or `run('gateway', … {`. */
const gatewayBlock = (source: string, opening: RegExp) => {
  const start = source.search(opening);
  return start < 0 ? undefined : source.slice(start, source.indexOf('\n}', start));
};
const bench = gatewayBlock(read('bench/run.ts'), /^const gatewayEnv = \{/m);
const stack = gatewayBlock(read('scripts/start.ts'), /^run\('gateway',/m);

describe('payment-gateway memory settings', () => {
  it('the image sets a young and an old generation cap and two malloc arenas', () => {
    expect(flags(imageEnv)).toEqual([
      expect.stringMatching(/^--max-old-space-size=/),
      expect.stringMatching(/^--max-semi-space-size=/),
    ]);
    expect(imageEnv).toMatch(/\bMALLOC_ARENA_MAX=2\b/);
  });

  it.each([
    ['its start script', startScript],
    ['pnpm bench', bench],
    ['pnpm start', stack],
  ])('%s runs it with the same V8 flags', (_where, text) => {
    expect(flags(text)).toEqual(flags(imageEnv));
  });

  it.each([
    ['pnpm bench', bench],
    ['pnpm start', stack],
  ])('%s runs it with the same malloc arenas', (_where, text) => {
    expect(text).toMatch(/MALLOC_ARENA_MAX: '2'/);
  });
});
