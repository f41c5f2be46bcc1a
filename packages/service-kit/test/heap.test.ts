import { getHeapSpaceStatistics } from 'node:v8';
import { expect, it } from 'vitest';
import { releaseStartupMemory } from '../src/index.ts';

const MiB = 1024 * 1024;
const youngGeneration = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.physical_space_size;

it('releaseStartupMemory shrinks the young generation that start-up grew, and leaves no global gc', () => {
  // What loading modules does: many short-lived objects, some surviving a few collections.
  let kept: { i: number; s: string }[] = [];
  for (let i = 0; i < 300_000; i++) {
    kept.push({ i, s: `item ${i}` });
    if (kept.length > 60_000) kept = kept.slice(30_000);
  }
  kept = [];
  expect(youngGeneration()).toBeGreaterThan(2 * MiB);

  releaseStartupMemory();

  expect(youngGeneration()).toBeLessThanOrEqual(1 * MiB);
  expect('gc' in globalThis).toBe(false);
});
