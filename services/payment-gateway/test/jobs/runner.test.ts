import { eventually } from '@repo/test-support';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { startJob } from '../../src/jobs/runner.ts';

/** A pass that waits until released (or aborted), recording what it saw. */
function gatedPasses() {
  const passes: { aborted: boolean }[] = [];
  let release: () => void = () => {};
  const pass = (_log: unknown, signal: AbortSignal) => {
    const seen = { aborted: false };
    passes.push(seen);
    return new Promise<void>((resolve) => {
      release = resolve;
      signal.addEventListener('abort', () => {
        seen.aborted = true;
        resolve();
      });
    });
  };
  return { passes, pass, release: () => release() };
}

describe('background job runner', () => {
  it('passes never overlap; a nudge while one runs queues exactly one more; a failure is reported', async () => {
    const app = Fastify();
    const gate = gatedPasses();
    const failures: unknown[] = [];
    let fail = false;
    const nudge = startJob(app, {
      component: 'test',
      everyMs: 60_000,
      pass: async (log, signal) => {
        if (fail) throw new Error('boom');
        await gate.pass(log, signal);
      },
      failed: (_log, err) => failures.push(err),
    });
    await app.ready();
    nudge();
    nudge();
    nudge();
    expect(gate.passes).toHaveLength(1);
    gate.release();
    await eventually(() => gate.passes.length === 2);
    gate.release();
    fail = true;
    nudge();
    await eventually(() => failures.length === 1);
    expect(gate.passes).toHaveLength(2);
    await app.close();
  });

  it('runs at ready when asked; closing aborts the running pass and waits for it; no pass after close', async () => {
    const app = Fastify();
    const gate = gatedPasses();
    let finished = false;
    const nudge = startJob(app, {
      component: 'test',
      everyMs: 60_000,
      atReady: true,
      pass: async (log, signal) => {
        await gate.pass(log, signal);
        await new Promise((r) => setTimeout(r, 20));
        finished = true;
      },
      failed: () => {},
    });
    await app.ready();
    expect(gate.passes).toHaveLength(1);
    await app.close();
    expect(gate.passes[0]?.aborted).toBe(true);
    expect(finished).toBe(true);
    nudge();
    expect(gate.passes).toHaveLength(1);
  });

  it('a pass that says work is left is followed by another at once', async () => {
    const app = Fastify();
    let left = 3;
    const done = Promise.withResolvers<void>();
    startJob(app, {
      component: 'test',
      everyMs: 60_000,
      atReady: true,
      pass: async () => {
        left -= 1;
        if (left === 0) done.resolve();
        return left > 0;
      },
      failed: () => {},
    });
    await app.ready();
    await done.promise;
    expect(left).toBe(0);
    await app.close();
  });
});
