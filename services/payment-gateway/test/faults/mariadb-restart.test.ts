import { eventually, mariadb } from '@repo/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../helpers.ts';
import { startMariadb, stopMariadb } from '../support/mariadb-control.ts';

const server = await mariadb();
const DELIVERIES = 500;
const STORM_MS = 5000;
const DOWN_AFTER_MS = 1200;
const DOWN_FOR_MS = 2500;

interface Ack {
  status: number;
  body: { id?: number; code?: string; received?: boolean };
  at: number;
}

/**
 * Disruptive: MariaDB is stopped and started again while 500 webhook deliveries arrive over real
 * HTTP. No acknowledged delivery may be lost, refused ones must be 503 WEBHOOK_NOT_STORED, /ready
 * must follow the store down and back up by itself, and the sweeper must finish what was left.
 */
describe.runIf(server)('MariaDB restarts during a webhook storm', () => {
  let h: Harness;
  const payments: string[] = [];

  beforeAll(async () => {
    await startMariadb();
    h = await startHarness(server as string, { listen: true });
    for (let i = 0; i < 25; i++) {
      const res = await h.control<{ response?: { imp_uid: string }; imp_uid?: string }>('POST', '/checkout', {
        merchant_uid: `storm_${i}_${Date.now()}`,
        amount: 1000 + i,
      });
      payments.push((res.body.response?.imp_uid ?? res.body.imp_uid) as string);
    }
    await h.control('PUT', '/webhook', { url: null });
  }, 120_000);

  afterAll(async () => {
    // Whatever happened above, the shared server is left running for everyone after us.
    await startMariadb();
    await h?.close();
  }, 120_000);

  it('acknowledges only what it stored, refuses the rest with 503, and recovers by itself', async () => {
    const url = `${h.gatewayUrl}/api/v1/webhooks/portone`;
    const start = Date.now();
    const ready: { status: number; at: number }[] = [];
    let storming = true;
    const readyPoll = (async () => {
      while (storming) {
        const res = await fetch(`${h.gatewayUrl}/ready`).catch(() => undefined);
        ready.push({ status: res?.status ?? 0, at: Date.now() - start });
        await res?.text();
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    let downAt = 0;
    let upAt = 0;
    const outage = (async () => {
      await new Promise((r) => setTimeout(r, DOWN_AFTER_MS));
      try {
        await stopMariadb();
        downAt = Date.now() - start;
        await new Promise((r) => setTimeout(r, DOWN_FOR_MS));
      } finally {
        await startMariadb();
        upAt = Date.now() - start;
      }
    })();

    const acks: Promise<Ack>[] = [];
    for (let i = 0; i < DELIVERIES; i++) {
      const impUid = payments[i % payments.length] as string;
      acks.push(
        fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          // A distinct cancellation_id per delivery: none is a duplicate of another.
          body: JSON.stringify({ imp_uid: impUid, status: 'cancelled', cancellation_id: `storm_${i}` }),
        }).then(async (res) => ({
          status: res.status,
          body: (await res.json()) as Ack['body'],
          at: Date.now() - start,
        })),
      );
      await new Promise((r) => setTimeout(r, STORM_MS / DELIVERIES));
    }
    const results = await Promise.all(acks);
    await outage;
    // /ready comes back by itself (the app was never restarted).
    await eventually(async () => ready.at(-1)?.status === 200, 30_000);
    storming = false;
    await readyPoll;

    const stored = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status !== 200);
    const whileDown = ready.filter((r) => r.at > downAt + 300 && r.at < upAt - 300);
    console.info(
      `storm: ${DELIVERIES} deliveries over ${STORM_MS} ms; MariaDB down ${downAt}–${upAt} ms; ` +
        `${stored.length} acknowledged, ${refused.length} refused (${JSON.stringify([...new Set(refused.map((r) => `${r.status} ${r.body.code}`))])}); ` +
        `/ready while down: ${JSON.stringify([...new Set(whileDown.map((r) => r.status))])}, ` +
        `refused more than 1 s after the restart: ${refused.filter((r) => r.at > upAt + 1000).length}; ` +
        `first 200 after restart at ${ready.find((r) => r.at > upAt && r.status === 200)?.at ?? '?'} ms`,
    );

    // Refused deliveries: 503 WEBHOOK_NOT_STORED, never anything else.
    for (const r of refused) {
      expect(r.status).toBe(503);
      expect(r.body.code).toBe('WEBHOOK_NOT_STORED');
    }
    expect(refused.length, 'the outage must have refused some deliveries').toBeGreaterThan(0);
    expect(stored.length).toBeGreaterThan(0);
    // Every acknowledged delivery is in the table.
    const ids = stored.map((r) => r.body.id as number);
    expect(new Set(ids).size).toBe(ids.length);
    const rows = await h.db.selectFrom('webhook_deliveries').select(['id']).where('id', 'in', ids).execute();
    expect(rows.length).toBe(ids.length);
    // The pool reconnected by itself: acknowledged deliveries after the restart, no refusals late on.
    expect(stored.some((r) => r.at > upAt)).toBe(true);
    expect(refused.filter((r) => r.at > upAt + 1000)).toEqual([]);
    // /ready was 503 while the store was down and 200 again afterwards.
    expect(whileDown.length).toBeGreaterThan(0);
    for (const r of whileDown) expect(r.status).toBe(503);
    expect(ready.at(-1)?.status).toBe(200);

    // The sweeper finishes whatever was left `received` or `failed`.
    await eventually(async () => {
      const left = await h.db
        .selectFrom('webhook_deliveries')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('state', 'in', ['received', 'failed'])
        .executeTakeFirstOrThrow();
      return Number(left.n) === 0;
    }, 30_000);
  }, 120_000);

  it('answers API calls with 503 STORE_UNAVAILABLE (never a 500) while MariaDB is down, and serves them after', async () => {
    // Both the connections the pool keeps (dead after the restart) and new ones (refused while down).
    const calls = () => [
      fetch(`${h.gatewayUrl}/api/v1/payments?limit=1`),
      fetch(`${h.gatewayUrl}/api/v1/payments/prepare`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ merchant_uid: `down_${Date.now()}_${Math.random()}`, amount: 1000 }),
      }),
    ];
    expect((await Promise.all(calls())).map((r) => r.status)).toEqual([200, 201]);
    await stopMariadb();
    try {
      for (let i = 0; i < 3; i++) {
        for (const res of await Promise.all(calls())) {
          const body = (await res.json()) as { code?: string };
          expect(res.status, JSON.stringify(body)).toBe(503);
          expect(body.code).toBe('STORE_UNAVAILABLE');
        }
      }
    } finally {
      await startMariadb();
    }
    // After the restart some pooled connections are dead: those calls are 503 too, until the pool
    // has replaced them; then everything succeeds.
    await eventually(async () => {
      const answers = await Promise.all(calls());
      for (const res of answers) expect([200, 201, 503]).toContain(res.status);
      return answers.every((r) => r.status < 300);
    }, 30_000);
  }, 120_000);
});
