import { describe, expect, it } from 'vitest';
import { CancelTurns } from '../src/cancel-turns.ts';

describe('CancelTurns', () => {
  it('a release wakes the longest-waiting cancel of that payment only; the rest wait on', async () => {
    const turns = new CancelTurns();
    const woken: string[] = [];
    const first = turns.wait('imp_a', 5_000).then(() => woken.push('first'));
    const second = turns.wait('imp_a', 5_000).then(() => woken.push('second'));
    const other = turns.wait('imp_b', 5_000).then(() => woken.push('other'));
    turns.released('imp_a');
    await first;
    await new Promise((r) => setTimeout(r, 20));
    expect(woken).toEqual(['first']);
    turns.released('imp_a');
    turns.released('imp_b');
    await Promise.all([second, other]);
    expect(woken).toEqual(['first', 'second', 'other']);
    // Nobody waiting: a release is a no-op.
    turns.released('imp_a');
  });

  it('a wait ends by itself after its time (the claim may be released by another process)', async () => {
    const turns = new CancelTurns();
    const start = performance.now();
    await turns.wait('imp_c', 30);
    expect(performance.now() - start).toBeGreaterThanOrEqual(25);
    turns.released('imp_c');
  });
});
