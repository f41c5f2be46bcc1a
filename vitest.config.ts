import { defineConfig } from 'vitest/config';

// One runner for the whole repo. Workspace packages resolve to their TypeScript sources through the
// `development` export condition, so tests never need a prior build.
const disruptive = ['test/faults/**/*.test.ts', '{packages,services}/*/test/faults/**/*.test.ts'];

export default defineConfig({
  resolve: { conditions: ['development'] },
  ssr: { resolve: { conditions: ['development'], externalConditions: ['development'] } },
  test: {
    // A fresh STACK_TEST_LOG_DIR for the run; test apps log there; teardown fails on any secret in it.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'suite',
          include: ['packages/*/test/**/*.test.ts', 'services/*/test/**/*.test.ts', 'test/**/*.test.ts'],
          // test/compose needs the built images and a running compose stack: scripts/compose-e2e.sh.
          exclude: ['**/node_modules/**', 'test/compose/**', ...disruptive],
        },
      },
      {
        // Restarts of dockerd and MariaDB, SIGTERM under load: they disturb the shared engines, so
        // they run after everything else, one file at a time.
        extends: true,
        test: {
          name: 'disruptive',
          include: disruptive,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
          testTimeout: 120_000,
        },
      },
    ],
  },
});
