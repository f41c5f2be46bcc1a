import type { Payment } from '@repo/portone-client';
import { eventually, mariadb, uid } from '@repo/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { toDbTime } from '../../src/store/codec.ts';
import { insertPortOneCall } from '../../src/store/portone-call.repository.ts';
import { recordChange, startRun } from '../../src/store/reconciliation.repository.ts';
import { insertWebhookDelivery } from '../../src/store/webhook.repository.ts';
import { buildTestApp, type Harness, startHarness } from '../helpers.ts';

const server = await mariadb();
const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000);

describe.runIf(server)('retention purge (MariaDB, the emulator over HTTP)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness(server as string, {
      listen: true,
      env: {
        WEBHOOK_RETENTION_DAYS: '30',
        PORTONE_CALL_RETENTION_DAYS: '7',
        RETENTION_PURGE_INTERVAL_MS: '100',
        RETENTION_PURGE_BATCH_SIZE: '3',
        NOTIFY_RETENTION_DAYS: '30',
        RECONCILE_RETENTION_DAYS: '30',
      },
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  async function seedOld(tag: string, counts: { oldDeliveries: number; oldCalls: number }) {
    for (let i = 0; i < counts.oldDeliveries; i++) {
      await insertWebhookDelivery(h.db, {
        rawBody: '{}',
        impUid: `imp_${tag}_old_${i}`,
        status: 'paid',
        receivedAt: daysAgo(40 + i),
      });
    }
    for (let i = 0; i < 2; i++) {
      await insertWebhookDelivery(h.db, {
        rawBody: '{}',
        impUid: `imp_${tag}_kept_${i}`,
        status: 'paid',
        receivedAt: daysAgo(20),
      });
    }
    const call = (at: Date, operation: string) =>
      insertPortOneCall(h.db, { at, operation, method: 'GET', path: '/x', durationMs: 1, attempt: 1, outcome: 'ok' });
    for (let i = 0; i < counts.oldCalls; i++) await call(daysAgo(10 + i), `${tag}_old`);
    for (let i = 0; i < 2; i++) await call(daysAgo(3), `${tag}_kept`);
  }

  const deliveriesLike = async (prefix: string) =>
    (await h.db.selectFrom('webhook_deliveries').select('imp_uid').where('imp_uid', 'like', `${prefix}%`).execute())
      .length;
  const callsNamed = async (operation: string) =>
    (await h.db.selectFrom('portone_calls').select('id').where('operation', '=', operation).execute()).length;

  it('deletes deliveries and call rows past their retention on its own, in batches, and keeps the rest', async () => {
    // A real delivery and the PortOne calls it caused: recent, so they stay.
    const paid = await h.control<{ code: number; response: Payment }>('POST', '/checkout', {
      merchant_uid: uid('ret'),
      amount: 1000,
    });
    expect(paid.body.code).toBe(0);
    const impUid = paid.body.response.imp_uid;
    expect(await deliveriesLike(impUid)).toBe(1);
    // PortOne call rows are written in batches after the call: wait for them.
    const realCalls = await eventually(async () => {
      const rows = await h.db.selectFrom('portone_calls').select('id').execute();
      return rows.length > 0 && rows;
    });
    expect(realCalls.length).toBeGreaterThan(0);

    await seedOld('a', { oldDeliveries: 8, oldCalls: 7 });
    await eventually(async () => (await deliveriesLike('imp_a_old')) === 0 && (await callsNamed('a_old')) === 0);

    expect(await deliveriesLike('imp_a_kept')).toBe(2);
    expect(await callsNamed('a_kept')).toBe(2);
    expect(await deliveriesLike(impUid)).toBe(1);
    const stillThere = await h.db
      .selectFrom('portone_calls')
      .select('id')
      .where(
        'id',
        'in',
        realCalls.map((c) => c.id),
      )
      .execute();
    expect(stillThere).toHaveLength(realCalls.length);
    expect(h.logs.parsed()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          component: 'retention',
          table: 'webhook_deliveries',
          msg: 'purged rows past retention',
        }),
        expect.objectContaining({ component: 'retention', table: 'portone_calls', msg: 'purged rows past retention' }),
      ]),
    );
  });

  it('deletes finished notifications past NOTIFY_RETENTION_DAYS; pending ones and recent ones stay', async () => {
    // An event and its deliveries are written in one transaction, as the gateway writes them: the purge
    // runs on a short interval here, and an event seen without its deliveries counts as finished.
    const event = async (at: Date, statuses: string[]) =>
      h.db.transaction().execute(async (trx) => {
        const inserted = await trx
          .insertInto('notification_events')
          .values({
            message_id: uid('msg'),
            type: 'payment.paid',
            subject: 'payment:x',
            cause: 'lookup',
            payload: '{}',
            created_at: toDbTime(at),
          })
          .executeTakeFirstOrThrow();
        const eventId = Number(inserted.insertId);
        for (const status of statuses) {
          await trx
            .insertInto('notification_deliveries')
            .values({
              event_id: eventId,
              endpoint_id: 'ep_ret',
              subject: 'payment:x',
              status,
              attempts: 1,
              next_attempt_at: toDbTime(at),
              created_at: toDbTime(at),
            })
            .execute();
        }
        return eventId;
      });
    const oldDone = await event(daysAgo(40), ['delivered', 'failed']);
    const oldPending = await event(daysAgo(40), ['pending']);
    const recent = await event(daysAgo(5), ['delivered']);

    const eventIds = async () =>
      (await h.db.selectFrom('notification_events').select('id').execute()).map((r) => Number(r.id)).sort();
    await eventually(async () => !(await eventIds()).includes(oldDone));
    expect(await eventIds()).toEqual(expect.arrayContaining([oldPending, recent]));
    const left = await h.db.selectFrom('notification_deliveries').select(['event_id', 'status']).execute();
    expect(left.map((d) => [Number(d.event_id), d.status]).sort()).toEqual(
      [
        [oldPending, 'pending'],
        [recent, 'delivered'],
      ].sort(),
    );
  });

  it('deletes reconciliation runs past RECONCILE_RETENTION_DAYS with their changes; recent ones stay', async () => {
    // A run and its changes in one transaction: the purge runs on a short interval here, and a run
    // seen before its changes were written would count as one with none left.
    const run = (startedAt: Date, changes: number) =>
      h.db.transaction().execute(async (trx) => {
        const id = await startRun(trx, { holder: 'ret', windowFrom: startedAt, windowTo: startedAt, startedAt });
        for (let i = 0; i < changes; i++) {
          await recordChange(trx, id, {
            impUid: uid('imp_rc'),
            merchantUid: uid('order_rc'),
            fromStatus: 'ready',
            toStatus: 'paid',
            fromCancelAmount: 0,
            toCancelAmount: 0,
            reason: 'recheck',
            at: startedAt,
          });
        }
        return id;
      });
    const old = await run(daysAgo(40), 5);
    const recent = await run(daysAgo(5), 1);
    const runIds = async () =>
      (await h.db.selectFrom('reconciliation_runs').select('id').execute()).map((r) => Number(r.id));
    await eventually(async () => !(await runIds()).includes(old));
    expect(await runIds()).toContain(recent);
    const changes = await h.db.selectFrom('reconciliation_changes').select('run_id').execute();
    expect(changes.map((c) => Number(c.run_id))).toEqual([recent]);
    expect(h.logs.parsed()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ component: 'retention', table: 'reconciliation_changes', deleted: 5 }),
        expect.objectContaining({ component: 'retention', table: 'reconciliation_runs' }),
      ]),
    );
  });

  it('purges at start-up too, so a gateway restarted more often than the interval still purges', async () => {
    await seedOld('b', { oldDeliveries: 4, oldCalls: 4 });
    const config = parseConfig({
      DATABASE_URL: 'sqlite::memory:',
      MIGRATE_ON_START: 'false',
      PORTONE_API_URL: h.emulator.url,
      LOG_LEVEL: 'silent',
      WEBHOOK_RETENTION_DAYS: '30',
      PORTONE_CALL_RETENTION_DAYS: '7',
      RETENTION_PURGE_INTERVAL_MS: '3600000',
    });
    // The first app's timer must not be the one doing it.
    await h.app.close();
    const restarted = await buildTestApp(config, { db: h.db });
    try {
      await eventually(async () => (await deliveriesLike('imp_b_old')) === 0 && (await callsNamed('b_old')) === 0);
      expect(await deliveriesLike('imp_b_kept')).toBe(2);
      expect(await callsNamed('b_kept')).toBe(2);
    } finally {
      await restarted.close();
    }
  });
});
