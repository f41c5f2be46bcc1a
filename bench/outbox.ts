/**
 * The notification outbox's cost: lookups and webhook ingest with one subscribed endpoint (every change
 * written to the outbox in its transaction and POSTed to a loopback receiver) vs the same with the
 * endpoint disabled (nothing written). The two modes alternate within each repeat, so drift in the
 * machine's load falls on both. Each repeat then measures the same way twice with the endpoint
 * disabled on both sides: the same work on both, so that ratio is how far this machine alone moves
 * the webhook ratio, under the same conditions.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkout, freshPayments, type GatewayRig, storm } from './gateway.ts';
import { inTurn, load, type Row, targetRows } from './lib.ts';

async function receiver() {
  let received = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received += 1;
      res.statusCode = 204;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`,
    received: () => received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function gatewayJson(rig: GatewayRig, method: string, path: string, body: unknown) {
  const res = await fetch(`${rig.gateway.url}/api/v1${path}`, {
    method,
    headers: { 'content-type': 'application/json', 'x-api-key': rig.apiKey },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as { endpoint: { id: string } };
}

async function ingest(rig: GatewayRig, tag: string, duration: number): Promise<number> {
  const run = await storm(rig.gateway.url, await freshPayments(rig.emulator, `ob_${tag}`), duration);
  return run.ok / run.seconds;
}

/** Waits until the dispatcher has sent what earlier runs wrote, so no run pays for another's backlog. */
async function drained(rig: GatewayRig): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const [[pending]] = (await rig.db.query(
      "SELECT COUNT(*) AS n FROM notification_deliveries WHERE status = 'pending'",
    )) as unknown as [[{ n: number }]];
    if (Number(pending.n) === 0 || Date.now() > deadline) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function benchOutbox(rig: GatewayRig, repeats: number, duration: number): Promise<Row[]> {
  const sink = await receiver();
  const { endpoint } = await gatewayJson(rig, 'POST', '/notifications/endpoints', { url: sink.url });
  const impUid = await checkout(rig.emulator, `bench_ob_lookup_${Date.now()}`);
  const lookups = { on: [] as number[], off: [] as number[] };
  const webhooks = { on: [] as number[], off: [] as number[] };
  // The same work on both sides (a and b: the endpoint disabled), measured the same way in each repeat.
  const same = { a: [] as number[], b: [] as number[] };
  const measure = async (mode: 'on' | 'off' | 'a' | 'b', r: number) => {
    await gatewayJson(rig, 'PATCH', `/notifications/endpoints/${endpoint.id}`, { enabled: mode === 'on' });
    await drained(rig);
    const lookup = await load(`${rig.gateway.url}/api/v1/payments/${impUid}`, {
      duration,
      headers: { 'x-api-key': rig.apiKey },
    });
    const rate = await ingest(rig, `${r}${mode}`, duration);
    if (mode === 'a' || mode === 'b') same[mode].push(rate);
    else {
      lookups[mode].push(lookup.rps);
      webhooks[mode].push(rate);
    }
  };
  try {
    // In turns as every other target (none first on even repeats), so that pairs of repeats balance.
    for (let r = 0; r < repeats; r++) {
      await inTurn(
        r,
        () => measure('on', r),
        () => measure('off', r),
      );
      await inTurn(
        r,
        () => measure('a', r),
        () => measure('b', r),
      );
    }
  } finally {
    await sink.close();
  }
  const [[events]] = (await rig.db.query('SELECT COUNT(*) AS n FROM notification_events')) as unknown as [
    [{ n: number }],
  ];
  // Each repeat measures both modes in turns (both sides are the same gateway: the spread of the
  // repeats' ratios is the machine's).
  const rows = (what: string, unit: string, series: { on: number[]; off: number[] }): Row[] =>
    targetRows({
      section: 'outbox',
      metric: `${what} (${unit}), one endpoint subscribed vs none`,
      what,
      ours: series.on,
      anchor: series.off,
      minRatio: 0.95,
      target: '>= 0.95',
      digits: { ratio: 3 },
      pair: 'subscribed / none',
    });
  return [
    ...rows('GET /payments/{imp_uid} throughput', 'req/s', lookups),
    ...rows('webhooks stored per second', 'MariaDB, 16 connections', webhooks),
    ...targetRows({
      section: 'outbox',
      metric:
        'webhooks stored per second, the endpoint disabled on both sides: the same work compared the same way, ' +
        'so this ratio is what the machine alone moves it by',
      what: 'webhooks stored per second, disabled on both sides',
      ours: same.a,
      anchor: same.b,
      digits: { ratio: 3 },
      pair: 'one side / the other',
    }),
    {
      section: 'outbox',
      metric: 'notifications written to the outbox / received by the subscriber',
      value: `${Number(events.n)} / ${sink.received()}`,
      target: 'equal',
      met: Number(events.n) === sink.received(),
    },
  ];
}
