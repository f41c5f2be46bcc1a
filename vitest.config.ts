import { defineConfig } from 'vitest/config';

// One runner for the whole repo. Workspace packages resolve to their TypeScript sources through the
// `development` export condition, so tests never need a prior build.
export default defineConfig({
  resolve: { conditions: ['development'] },
  ssr: { resolve: { conditions: ['development'], externalConditions: ['development'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'services/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Real MariaDB / dockerd / nginx are shared; files run in parallel, each on its own database/names.
    fileParallelism: true,
    maxWorkers: 2,
    reporters: ['default'],
  },
});
