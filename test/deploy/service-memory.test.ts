/**
 * Each service's memory settings (its Dockerfile explains them) are the same wherever it runs: its
 * image, its package's start script, `pnpm start` and `pnpm bench`, so the bench measures what is
 * deployed. The last two take them from the Dockerfile (scripts/image-env.ts).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { imageRuntimeEnv } from '../../scripts/image-env.ts';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const flags = (text: string | undefined) => (text ?? '').match(/--max-[a-z-]+-size=\d+/g)?.sort() ?? [];

describe.each(['payment-gateway', 'docker-agent'] as const)('%s memory settings', (service) => {
  const dockerfile = read(`services/${service}/Dockerfile`);
  const imageEnv = dockerfile.match(/^ENV .*$/gm)?.join(' ');
  const startScript = (JSON.parse(read(`services/${service}/package.json`)) as { scripts: { start: string } }).scripts
    .start;
  const runtime = imageRuntimeEnv(service);

  it('the image sets a young and an old generation cap and two malloc arenas', () => {
    expect(flags(imageEnv)).toEqual([
      expect.stringMatching(/^--max-old-space-size=/),
      expect.stringMatching(/^--max-semi-space-size=/),
    ]);
    expect(imageEnv).toMatch(/\bMALLOC_ARENA_MAX=2\b/);
  });

  it('its start script runs it with the same V8 flags', () => {
    expect(flags(startScript)).toEqual(flags(imageEnv));
  });

  it('pnpm bench and pnpm start run it with the same V8 flags and malloc arenas (read from the Dockerfile)', () => {
    expect(flags(runtime.NODE_OPTIONS)).toEqual(flags(imageEnv));
    expect(runtime.MALLOC_ARENA_MAX).toBe('2');
    expect(read('bench/run.ts')).toContain(`...imageRuntimeEnv('${service}')`);
    expect(read('scripts/start.ts')).toContain(`...imageRuntimeEnv('${service}')`);
  });
});
