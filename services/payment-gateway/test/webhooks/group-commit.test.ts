import { type KyselyPlugin, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDatabase } from '../../src/store/create-database.ts';
import { migrateToLatest } from '../../src/store/migrator.ts';
import { getWebhookDelivery, markWebhookProcessed, webhookDedupeKey } from '../../src/store/webhook.repository.ts';
import { deliveryStore, type IncomingDelivery } from '../../src/webhooks/deliveries.ts';
import { groupCommit } from '../../src/webhooks/group-commit.ts';
import { type MigratedStore, migratedStore, storeTargets } from '../store/store-targets.ts';

/** A promise the test settles by hand. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Whether `promise` has settled by the time pending callbacks ran. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  await new Promise((r) => setImmediate(r));
  return done;
}

describe('groupCommit', () => {
  it('writes a lone item at once and the items arriving meanwhile together, answering each after its write', async () => {
    const writes: string[][] = [];
    const pending: ReturnType<typeof deferred<void>>[] = [];
    const write = async (items: string[]) => {
      writes.push(items);
      const done = deferred<void>();
      pending.push(done);
      await done.promise;
      return items.map((item) => `stored ${item}`);
    };
    const store = groupCommit({
      many: write,
      one: async (item) => (await write([item]))[0]!,
      concurrency: 1,
      maxBatch: 3,
    });

    const first = store('a');
    expect(writes).toEqual([['a']]); // idle: no waiting for company
    const later = ['b', 'c', 'd', 'e'].map((item) => store(item));
    expect(writes).toHaveLength(1); // one write at a time: the rest queue
    expect(await settled(first)).toBe(false); // not answered before its write finished

    pending[0]!.resolve();
    expect(await first).toBe('stored a');
    // The queue, up to maxBatch, in one write, once the first write is over.
    await vi.waitFor(() => expect(writes[1]).toEqual(['b', 'c', 'd']));
    expect(await settled(later[0]!)).toBe(false);
    pending[1]!.resolve();
    expect(await Promise.all(later.slice(0, 3))).toEqual(['stored b', 'stored c', 'stored d']);
    await vi.waitFor(() => expect(writes[2]).toEqual(['e']));
    pending[2]!.resolve();
    expect(await later[3]).toBe('stored e');
  });

  it('stores the members of a refused group one by one: a bad one fails alone', async () => {
    const refused: number[] = [];
    const gate = deferred<void>();
    const store = groupCommit<string, string>({
      many: async () => {
        throw new Error('one row is bad');
      },
      one: async (item) => {
        if (item === 'lead') await gate.promise;
        if (item === 'bad') throw new Error(`cannot store ${item}`);
        return `stored ${item}`;
      },
      concurrency: 1,
      maxBatch: 10,
      onGroupError: (_error, size) => refused.push(size),
    });
    const lead = store('lead');
    const group = ['x', 'bad', 'y'].map((item) => store(item));
    gate.resolve();
    expect(await lead).toBe('stored lead');
    const results = await Promise.allSettled(group);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([
      'stored x',
      'cannot store bad',
      'stored y',
    ]);
    expect(refused).toEqual([3]);
  });
});

const targets = await storeTargets();
let n = 0;
const delivery = (impUid = `imp_gc_${++n}_${Date.now()}`): IncomingDelivery => ({
  impUid,
  merchantUid: `order_${impUid}`,
  status: 'paid',
  cancellationId: null,
  rawBody: JSON.stringify({ imp_uid: impUid, status: 'paid', n: ++n }),
  contentType: 'application/json',
  sourceIp: '52.78.100.19',
});

describe.each(targets)('deliveryStore on $name', (target) => {
  let store: MigratedStore;
  beforeAll(async () => {
    store = await migratedStore(target);
  });
  afterAll(async () => {
    await store?.close();
  });

  /** The store as the route builds it, over a handle that counts INSERT statements. */
  function counted() {
    const counter = { inserts: 0, groupsRefused: 0 };
    const plugin: KyselyPlugin = {
      transformQuery: (args) => {
        if (args.node.kind === 'InsertQueryNode') counter.inserts += 1;
        return args.node;
      },
      transformResult: async (args) => args.result,
    };
    const confirmed = new Map<string, number>();
    const log = {
      debug: () => {
        counter.groupsRefused += 1;
      },
    };
    return { save: deliveryStore(store.db.withPlugin(plugin), confirmed, log), counter, confirmed };
  }

  it('stores deliveries arriving together in a few statements, each acknowledged with its own committed row', async () => {
    const { save, counter } = counted();
    // Another connection: what it reads is committed.
    const reader = createDatabase({ url: store.url });
    try {
      const sent = Array.from({ length: 24 }, () => delivery());
      const seen = await Promise.all(
        sent.map(async (d) => {
          const stored = await save(d);
          // Read the moment the store answers: the acknowledgement comes after the commit.
          return { stored, row: await getWebhookDelivery(reader, stored.id) };
        }),
      );
      for (const [i, { stored, row }] of seen.entries()) {
        expect(stored).toMatchObject({ duplicate: false, claim: webhookDedupeKey(sent[i]!) });
        expect(row).toMatchObject({ rawBody: sent[i]!.rawBody, impUid: sent[i]!.impUid, state: 'received' });
      }
      expect(new Set(seen.map((s) => s.stored.id)).size).toBe(24);
      // Two lone writes while idle, then the rest in groups: far fewer commits than deliveries.
      expect(counter.inserts).toBeLessThanOrEqual(4);
      expect(counter.groupsRefused).toBe(0);
    } finally {
      await reader.destroy();
    }
  });

  it('a delivery the database refuses fails alone; the others of its group are stored', async () => {
    const { save, counter } = counted();
    const bad = { ...delivery(), rawBody: null as unknown as string }; // raw_body is NOT NULL
    const sent = [delivery(), delivery(), delivery(), bad, delivery(), delivery()];
    const results = await Promise.allSettled(sent.map((d) => save(d)));
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
    ]);
    expect(counter.groupsRefused).toBeGreaterThan(0);
    for (const [i, r] of results.entries()) {
      if (r.status === 'fulfilled') {
        expect(await getWebhookDelivery(store.db, r.value.id)).toMatchObject({ rawBody: sent[i]!.rawBody });
      }
    }
    const badRows = await store.db
      .selectFrom('webhook_deliveries')
      .select('id')
      .where('imp_uid', '=', bad.impUid)
      .execute();
    expect(badRows).toEqual([]);
  });

  it('copies of one event in a group get the answers a lone store gives: one claim, then duplicates once confirmed', async () => {
    const { save, confirmed } = counted();
    const d = delivery();
    const key = webhookDedupeKey(d)!;
    const early = await Promise.all(Array.from({ length: 5 }, () => save(d)));
    expect(early.every((r) => !r.duplicate)).toBe(true);
    expect(early.filter((r) => r.claim === key)).toHaveLength(1);
    const claimer = early.find((r) => r.claim === key)!;

    await markWebhookProcessed(store.db, claimer.id, 'processed');
    const late = await Promise.all(Array.from({ length: 5 }, () => save(d)));
    expect(late.every((r) => r.duplicate && r.duplicateOf === claimer.id)).toBe(true);
    expect(confirmed.get(key)).toBe(claimer.id);
    // Known confirmed now: a group of copies is one statement of duplicate rows.
    const again = await Promise.all(Array.from({ length: 5 }, () => save(d)));
    for (const r of again) {
      expect(await getWebhookDelivery(store.db, r.id)).toMatchObject({ state: 'duplicate', duplicateOf: claimer.id });
    }
  });
});

describe.runIf(targets.some((t) => t.name === 'mariadb'))('deliveryStore with spaced auto-increment ids', () => {
  it('answers each delivery of a group with its own row when ids are 3 apart (auto_increment_increment, as Galera sets it)', async () => {
    const empty = await targets.find((t) => t.name === 'mariadb')!.empty();
    // One connection, so the session setting holds for every statement.
    const db = createDatabase({ url: empty.url, connectionLimit: 1 });
    try {
      await migrateToLatest(db);
      await sql`SET SESSION auto_increment_increment = 3`.execute(db);
      const save = deliveryStore(db, new Map(), { debug: () => {} });
      const sent = Array.from({ length: 12 }, () => delivery());
      const stored = await Promise.all(sent.map((d) => save(d)));
      const ids = stored.map((s) => s.id);
      expect(new Set(ids.map((id) => id % 3)).size).toBe(1); // spaced ids, really
      for (const [i, s] of stored.entries()) {
        expect(await getWebhookDelivery(db, s.id)).toMatchObject({
          impUid: sent[i]!.impUid,
          rawBody: sent[i]!.rawBody,
        });
      }
    } finally {
      await db.destroy();
      await empty.remove();
    }
  });
});
