import { defineConfig } from 'vitest/config';

// The compose deployment test: run by scripts/compose-e2e.sh against a stack it started, one file,
// its tests in order (the last one takes the stack down).
export default defineConfig({
  test: {
    include: ['test/compose/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    fileParallelism: false,
  },
});
