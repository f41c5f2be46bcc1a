import { describe, expect, it } from 'vitest';
import { TokenStore } from '../../src/transport/token-store.ts';

const A = { impKey: 'imp_a', impSecret: 'secret_a' };
const B = { impKey: 'imp_b', impSecret: 'secret_b' };

describe('TokenStore', () => {
  function store(options: { margin?: number; max?: number; lifetime?: number } = {}) {
    const clock = { now: 1_000_000 };
    const fetches: string[] = [];
    let serial = 0;
    let release: (() => void) | undefined;
    let gate: Promise<void> | undefined;
    const tokens = new TokenStore({
      now: () => clock.now,
      refreshMarginMs: options.margin ?? 60_000,
      max: options.max ?? 10,
      fetchToken: async (credentials) => {
        fetches.push(credentials.impKey);
        if (gate) await gate;
        serial += 1;
        // PortOne's clock is far from the local one; only the difference matters.
        return {
          access_token: `${credentials.impKey}-${serial}`,
          now: 50,
          expired_at: 50 + (options.lifetime ?? 1800),
        };
      },
    });
    const hold = () => {
      gate = new Promise((resolve) => {
        release = () => {
          gate = undefined;
          resolve();
        };
      });
    };
    return { tokens, clock, fetches, hold, release: () => release?.() };
  }

  it('single-flights concurrent requests per key', async () => {
    const { tokens, fetches, hold, release } = store();
    hold();
    const pending = Promise.all([...Array.from({ length: 10 }, () => tokens.get(A)), tokens.get(B)]);
    release();
    const results = await pending;
    expect(new Set(results.map((t) => t.access_token))).toEqual(new Set(['imp_a-1', 'imp_b-2']));
    expect(fetches).toEqual(['imp_a', 'imp_b']);
  });

  it('refreshes inside the margin, using the lifetime PortOne reported', async () => {
    const { tokens, clock, fetches } = store({ margin: 60_000 });
    await tokens.get(A);
    clock.now += 1_739_000; // 61 s left
    await tokens.get(A);
    expect(fetches).toHaveLength(1);
    clock.now += 2_000; // 59 s left
    expect((await tokens.get(A)).access_token).toBe('imp_a-2');
    expect(fetches).toHaveLength(2);
  });

  it('falls back to the extension window when the margin exceeds the lifetime', async () => {
    const { tokens, clock, fetches } = store({ margin: 3_600_000 });
    await tokens.get(A);
    clock.now += 1_000_000;
    await tokens.get(A);
    expect(fetches).toHaveLength(1);
    clock.now += 771_000; // 29 s before expiry
    await tokens.get(A);
    expect(fetches).toHaveLength(2);
  });

  it('invalidates only the token it was told about', async () => {
    const { tokens, fetches } = store();
    const first = await tokens.get(A);
    tokens.invalidate(A, 'some-older-token');
    expect((await tokens.get(A)).access_token).toBe(first.access_token);
    tokens.invalidate(A, first.access_token);
    expect((await tokens.get(A)).access_token).not.toBe(first.access_token);
    expect(fetches).toHaveLength(2);
  });

  it('does not share a token between the same key with another secret', async () => {
    const { tokens, fetches } = store();
    await tokens.get(A);
    await tokens.get({ impKey: A.impKey, impSecret: 'guessed' });
    expect(fetches).toEqual(['imp_a', 'imp_a']);
  });

  it('is bounded (least recently used merchant goes first)', async () => {
    const { tokens, fetches } = store({ max: 2 });
    await tokens.get(A);
    await tokens.get(B);
    await tokens.get({ impKey: 'imp_c', impSecret: 'c' });
    expect(tokens.size).toBe(2);
    await tokens.get(A);
    expect(fetches).toEqual(['imp_a', 'imp_b', 'imp_c', 'imp_a']);
  });

  it('lets one caller abort its wait without failing the shared request', async () => {
    const { tokens, fetches, hold, release } = store();
    hold();
    const controller = new AbortController();
    const aborted = tokens.get(A, { signal: controller.signal });
    const other = tokens.get(A);
    controller.abort(new Error('gave up'));
    await expect(aborted).rejects.toThrow('gave up');
    release();
    expect((await other).access_token).toBe('imp_a-1');
    expect(fetches).toHaveLength(1);
  });
});
