import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  abandonIdempotent,
  beginIdempotent,
  completeIdempotent,
  purgeExpiredIdempotency,
  saveIdempotencyCheckpoint,
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
    expect(await beginIdempotent(store.db, req)).toMatchObject({ kind: 'started' });
    expect(await beginIdempotent(store.db, { ...req, bodyHash: 'b'.repeat(64) })).toEqual({ kind: 'mismatch' });
    expect(await beginIdempotent(store.db, { ...req, path: '/api/v1/other' })).toEqual({ kind: 'mismatch' });
    expect(await beginIdempotent(store.db, { ...req, method: 'PUT' })).toEqual({ kind: 'mismatch' });
  });

  it('a completed key replays the stored answer; keys are per scope and case-sensitive', async () => {
    const req = request();
    await beginIdempotent(store.db, req);
    const body = { imp_uid: 'imp_1', amount: 1000.5, note: '환불' };
    expect(await completeIdempotent(store.db, { scope: req.scope, key: req.key, status: 201, body })).toBe(true);
    expect(await beginIdempotent(store.db, req)).toEqual({
      kind: 'replay',
      status: 201,
      body,
      checkpoint: null,
      createdAt: expect.any(Date),
    });
    // Completing twice does nothing; another caller's identical key is a different key.
    expect(await completeIdempotent(store.db, { scope: req.scope, key: req.key, status: 500, body: null })).toBe(false);
    expect(await beginIdempotent(store.db, { ...req, scope: 'api-key-2' })).toMatchObject({ kind: 'started' });
    expect(await beginIdempotent(store.db, { ...req, key: req.key.toUpperCase() })).toMatchObject({ kind: 'started' });
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
    expect(await beginIdempotent(store.db, req)).toMatchObject({ kind: 'started' });
    await completeIdempotent(store.db, { scope: req.scope, key: req.key, status: 200, body: 'done' });
    expect(await abandonIdempotent(store.db, req)).toBe(false);
    expect(await beginIdempotent(store.db, req)).toEqual({
      kind: 'replay',
      status: 200,
      body: 'done',
      checkpoint: null,
      createdAt: expect.any(Date),
    });
  });

  it('purge deletes only expired keys', async () => {
    const t0 = new Date('2020-01-01T00:00:00.000Z');
    const old = request({ ttlSeconds: 10, now: t0 });
    const live = request({ ttlSeconds: 3600, now: t0 });
    await beginIdempotent(store.db, old);
    await beginIdempotent(store.db, live);
    const purged = await purgeExpiredIdempotency(store.db, new Date(t0.getTime() + 60_000));
    expect(purged).toBeGreaterThanOrEqual(1);
    expect(await beginIdempotent(store.db, { ...old, now: new Date(t0.getTime() + 61_000) })).toMatchObject({
      kind: 'started',
    });
    expect(await beginIdempotent(store.db, { ...live, now: new Date(t0.getTime() + 61_000) })).toEqual({
      kind: 'in_flight',
    });
  });

  describe('leases of in-flight keys', () => {
    const t0 = new Date('2026-03-01T00:00:00.000Z');
    const at = (ms: number) => new Date(t0.getTime() + ms);

    it('a key whose holder died is taken over after its lease, by exactly one of 10 racers', async () => {
      const req = request({ leaseSeconds: 120, now: t0 });
      const first = await beginIdempotent(store.db, req);
      expect(first).toEqual({ kind: 'started', lease: at(120_000), createdAt: t0 });
      // Within the lease the holder may still be working: 409 material.
      expect(await beginIdempotent(store.db, { ...req, now: at(119_999) })).toEqual({ kind: 'in_flight' });
      const racers = await Promise.all(
        Array.from({ length: 10 }, () => beginIdempotent(store.db, { ...req, now: at(120_000) })),
      );
      expect(racers.filter((r) => r.kind === 'taken_over')).toEqual([
        // Taken over, the key still dates from its first attempt (a lost charge cannot be older).
        { kind: 'taken_over', lease: at(240_000), checkpoint: null, createdAt: t0 },
      ]);
      expect(racers.filter((r) => r.kind === 'in_flight')).toHaveLength(9);
      // The new lease holds off the next retry until it too runs out.
      expect(await beginIdempotent(store.db, { ...req, now: at(239_000) })).toEqual({ kind: 'in_flight' });
    });

    it('the holder the key was taken from can neither complete nor abandon it; the new holder can', async () => {
      const req = request({ leaseSeconds: 60, now: t0 });
      const old = await beginIdempotent(store.db, req);
      const taken = await beginIdempotent(store.db, { ...req, now: at(61_000) });
      if (old.kind !== 'started' || taken.kind !== 'taken_over') throw new Error(`${old.kind} / ${taken.kind}`);
      const holder = { scope: req.scope, key: req.key };
      expect(await abandonIdempotent(store.db, { ...holder, lease: old.lease })).toBe(false);
      expect(
        await completeIdempotent(store.db, { ...holder, lease: old.lease, status: 201, body: { stale: true } }),
      ).toBe(false);
      expect(
        await completeIdempotent(store.db, { ...holder, lease: taken.lease, status: 201, body: { fresh: true } }),
      ).toBe(true);
      expect(await beginIdempotent(store.db, { ...req, now: at(500_000) })).toEqual({
        kind: 'replay',
        status: 201,
        body: { fresh: true },
        checkpoint: null,
        createdAt: t0,
      });
    });

    it('a different request with the key is still a mismatch after the lease; a completed key is never taken over', async () => {
      const req = request({ leaseSeconds: 60, now: t0 });
      await beginIdempotent(store.db, req);
      expect(await beginIdempotent(store.db, { ...req, bodyHash: 'd'.repeat(64), now: at(61_000) })).toEqual({
        kind: 'mismatch',
      });
      const done = request({ leaseSeconds: 60, now: t0 });
      await beginIdempotent(store.db, done);
      await completeIdempotent(store.db, { scope: done.scope, key: done.key, status: 200, body: 1 });
      expect((await beginIdempotent(store.db, { ...done, now: at(61_000) })).kind).toBe('replay');
    });

    it('a checkpoint saved by the holder reaches whoever takes the key over, and its replays; fenced by the lease', async () => {
      const req = request({ leaseSeconds: 60, now: t0 });
      const first = await beginIdempotent(store.db, req);
      if (first.kind !== 'started') throw new Error(first.kind);
      const holder = { scope: req.scope, key: req.key };
      const checkpoint = { imp_uid: 'imp_1', checksum: 10000, amount: 3000 };
      expect(await saveIdempotencyCheckpoint(store.db, { ...holder, lease: first.lease, checkpoint })).toBe(true);
      const taken = await beginIdempotent(store.db, { ...req, now: at(61_000) });
      expect(taken).toEqual({ kind: 'taken_over', lease: at(121_000), checkpoint, createdAt: t0 });
      // The dead holder's lease no longer counts: it cannot overwrite what the new holder will write.
      expect(
        await saveIdempotencyCheckpoint(store.db, { ...holder, lease: first.lease, checkpoint: { stale: true } }),
      ).toBe(false);
      if (taken.kind !== 'taken_over') throw new Error(taken.kind);
      await completeIdempotent(store.db, { ...holder, lease: taken.lease, status: 502, body: { code: 'X' } });
      expect(await beginIdempotent(store.db, { ...req, now: at(200_000) })).toEqual({
        kind: 'replay',
        status: 502,
        body: { code: 'X' },
        checkpoint,
        createdAt: t0,
      });
      // A completed key takes no new checkpoint.
      expect(await saveIdempotencyCheckpoint(store.db, { ...holder, checkpoint: { late: true } })).toBe(false);
    });

    it('a checkpoint is never written inside a transaction (it must outlive its rollback)', async () => {
      const req = request();
      const first = await beginIdempotent(store.db, req);
      if (first.kind !== 'started') throw new Error(first.kind);
      const holder = { scope: req.scope, key: req.key, lease: first.lease, checkpoint: { amount: 1 } };
      await expect(store.db.transaction().execute((trx) => saveIdempotencyCheckpoint(trx, holder))).rejects.toThrow(
        /outside any transaction/,
      );
      expect(await saveIdempotencyCheckpoint(store.db, holder)).toBe(true);
    });

    it('a row from before leases existed (locked_until NULL) is leased from its created_at', async () => {
      const req = request({ leaseSeconds: 60, now: t0 });
      await beginIdempotent(store.db, req);
      await sql`update idempotency_keys set locked_until = null where idem_key = ${req.key}`.execute(store.db);
      expect(await beginIdempotent(store.db, { ...req, now: at(59_000) })).toEqual({ kind: 'in_flight' });
      const racers = await Promise.all(
        Array.from({ length: 5 }, () => beginIdempotent(store.db, { ...req, now: at(60_000) })),
      );
      expect(racers.map((r) => r.kind).sort()).toEqual([
        'in_flight',
        'in_flight',
        'in_flight',
        'in_flight',
        'taken_over',
      ]);
    });
  });
});
