import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  abandonIdempotent,
  beginIdempotent,
  completeIdempotent,
  purgeExpiredIdempotency,
} from '../../src/store/idempotency.repository.ts';
import { type MigratedStore, migratedStore, storeTargets } from './store-targets.ts';

const targets = await storeTargets();
let counter = 0;
const request = (overrides: Partial<Parameters<typeof beginIdempotent>[1]> = {}) => ({
  scope: 'api-key-1',
  key: `key-${++counter}-${Date.now()}`,
  method: 'POST',
  path: '/api/v1/payments/cancel',
  bodyHash: 'a'.repeat(64),
  ttlSeconds: 86_400,
  ...overrides,
});

describe.each(targets)('idempotency keys on $name', (target) => {
  let store: MigratedStore;
  beforeAll(async () => {
    store = await migratedStore(target);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('10 parallel begins with one key: exactly one started, the rest in flight', async () => {
    const req = request();
    const results = await Promise.all(Array.from({ length: 10 }, () => beginIdempotent(store.db, req)));
    expect(results.filter((r) => r.kind === 'started')).toHaveLength(1);
    expect(results.filter((r) => r.kind === 'in_flight')).toHaveLength(9);
  });

  it('same key with a different body, method or path is a mismatch', async () => {
    const req = request();
    expect(await beginIdempotent(store.db, req)).toEqual({ kind: 'started' });
    expect(await beginIdempotent(store.db, { ...req, bodyHash: 'b'.repeat(64) })).toEqual({ kind: 'mismatch' });
    expect(await beginIdempotent(store.db, { ...req, path: '/api/v1/other' })).toEqual({ kind: 'mismatch' });
    expect(await beginIdempotent(store.db, { ...req, method: 'PUT' })).toEqual({ kind: 'mismatch' });
  });

  it('a completed key replays the stored answer; keys are per scope and case-sensitive', async () => {
    const req = request();
    await beginIdempotent(store.db, req);
    const body = { imp_uid: 'imp_1', amount: 1000.5, note: '환불' };
    expect(await completeIdempotent(store.db, { scope: req.scope, key: req.key, status: 201, body })).toBe(true);
    expect(await beginIdempotent(store.db, req)).toEqual({ kind: 'replay', status: 201, body });
    // Completing twice does nothing; another caller's identical key is a different key.
    expect(await completeIdempotent(store.db, { scope: req.scope, key: req.key, status: 500, body: null })).toBe(false);
    expect(await beginIdempotent(store.db, { ...req, scope: 'api-key-2' })).toEqual({ kind: 'started' });
    expect(await beginIdempotent(store.db, { ...req, key: req.key.toUpperCase() })).toEqual({ kind: 'started' });
  });

  it('an expired key is started again, by exactly one of several racers', async () => {
    const t0 = new Date('2026-01-01T00:00:00.000Z');
    const req = request({ ttlSeconds: 60, now: t0 });
    await beginIdempotent(store.db, req);
    await completeIdempotent(store.db, { scope: req.scope, key: req.key, status: 200, body: { ok: true } });
    const before = new Date(t0.getTime() + 59_000);
    expect((await beginIdempotent(store.db, { ...req, now: before })).kind).toBe('replay');
    const after = new Date(t0.getTime() + 61_000);
    const racers = await Promise.all(
      Array.from({ length: 5 }, () => beginIdempotent(store.db, { ...req, bodyHash: 'c'.repeat(64), now: after })),
    );
    expect(racers.filter((r) => r.kind === 'started')).toHaveLength(1);
    expect(racers.filter((r) => r.kind === 'in_flight')).toHaveLength(4);
  });

  it('abandon frees an in-flight key for a retry, never a completed one', async () => {
    const req = request();
    await beginIdempotent(store.db, req);
    expect(await abandonIdempotent(store.db, req)).toBe(true);
    expect(await beginIdempotent(store.db, req)).toEqual({ kind: 'started' });
    await completeIdempotent(store.db, { scope: req.scope, key: req.key, status: 200, body: 'done' });
    expect(await abandonIdempotent(store.db, req)).toBe(false);
    expect(await beginIdempotent(store.db, req)).toEqual({ kind: 'replay', status: 200, body: 'done' });
  });

  it('purge deletes only expired keys', async () => {
    const t0 = new Date('2020-01-01T00:00:00.000Z');
    const old = request({ ttlSeconds: 10, now: t0 });
    const live = request({ ttlSeconds: 3600, now: t0 });
    await beginIdempotent(store.db, old);
    await beginIdempotent(store.db, live);
    const purged = await purgeExpiredIdempotency(store.db, new Date(t0.getTime() + 60_000));
    expect(purged).toBeGreaterThanOrEqual(1);
    expect(await beginIdempotent(store.db, { ...old, now: new Date(t0.getTime() + 61_000) })).toEqual({
      kind: 'started',
    });
    expect(await beginIdempotent(store.db, { ...live, now: new Date(t0.getTime() + 61_000) })).toEqual({
      kind: 'in_flight',
    });
  });
});
