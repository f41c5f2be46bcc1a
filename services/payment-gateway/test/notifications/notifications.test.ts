import type { Payment } from '@repo/portone-client';
import { eventually, mariadb, uid } from '@repo/test-support';
import type { FastifyInstance } from 'fastify';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { buildTestApp, type Harness, startHarness } from '../helpers.ts';
import { type Received, Subscriber } from '../support/subscriber.ts';

const server = await mariadb();

/** Fast retries so a test waits seconds, not minutes. */
const NOTIFY_ENV = {
  NOTIFY_POLL_INTERVAL_MS: '100',
  NOTIFY_RETRY_MIN_MS: '100',
  NOTIFY_RETRY_MAX_MS: '400',
  NOTIFY_TIMEOUT_MS: '2000',
};

interface EndpointAnswer {
  endpoint: { id: string; active_secrets: number; source: string };
  secret: string;
}

describe.runIf(server)('notifications to internal services (signed, outbox, at least once)', () => {
  let h: Harness;
  const subscribers: Subscriber[] = [];
  const extraApps: FastifyInstance[] = [];

  beforeAll(async () => {
    h = await startHarness(server as string, { listen: true, env: NOTIFY_ENV });
  });
  afterEach(async () => {
    // Each test subscribes its own endpoints; the next one starts with none.
    await h.db.deleteFrom('notification_endpoints').execute();
    await h.db.deleteFrom('notification_deliveries').execute();
    while (extraApps.length > 0) await extraApps.pop()?.close();
    while (subscribers.length > 0) await subscribers.pop()?.stop();
  });
  afterAll(async () => {
    await h?.close();
  });

  async function subscriber(): Promise<Subscriber> {
    const s = await new Subscriber().start();
    subscribers.push(s);
    return s;
  }

  async function subscribe(url: string): Promise<EndpointAnswer> {
    const res = await h.inject({ method: 'POST', url: '/api/v1/notifications/endpoints', payload: { url } });
    expect(res.statusCode, res.body).toBe(201);
    return res.json<EndpointAnswer>();
  }

  async function checkout(amount: number, extra: Record<string, unknown> = {}): Promise<Payment> {
    const res = await h.control<{ code: number; response: Payment }>('POST', '/checkout', {
      merchant_uid: uid('nt'),
      amount,
      ...extra,
    });
    expect(res.body.code).toBe(0);
    return res.body.response;
  }

  async function cancel(impUid: string, amount: number) {
    const res = await h.inject({
      method: 'POST',
      url: '/api/v1/payments/cancel',
      payload: { imp_uid: impUid, amount, reason: 'test' },
    });
    expect(res.statusCode, res.body).toBe(200);
  }

  /** Verifies with the standardwebhooks library, as a subscriber would; throws when it does not verify. */
  function verify(secret: string, r: Received) {
    return new Webhook(secret).verify(r.body, {
      'webhook-id': String(r.headers['webhook-id']),
      'webhook-timestamp': String(r.headers['webhook-timestamp']),
      'webhook-signature': String(r.headers['webhook-signature']),
    }) as { type: string; data: Record<string, unknown> };
  }

  it('every change reaches the subscriber, signed per Standard Webhooks, whatever caused it', async () => {
    const sub = await subscriber();
    const { secret, endpoint } = await subscribe(sub.url);
    expect(secret).toMatch(/^whsec_/);
    expect(endpoint.active_secrets).toBe(1);
    // The secret is shown once: never in a listing.
    const listed = await h.inject({ method: 'GET', url: '/api/v1/notifications/endpoints' });
    expect(listed.body).not.toContain(secret.slice(6));

    const paid = await checkout(10_000); // PortOne's webhook → payment.paid (cause webhook)
    await eventually(async () => sub.events().length >= 1, 10_000);
    await cancel(paid.imp_uid, 3_000); // a partial cancel through the API → payment.cancelled 3000
    await cancel(paid.imp_uid, 2_000);
    const vbank = await h.inject({
      method: 'POST',
      url: '/api/v1/payments/vbank',
      payload: { merchant_uid: uid('ntv'), amount: 5_000, vbank_code: '004' },
    });
    expect(vbank.statusCode, vbank.body).toBe(201);

    await eventually(async () => sub.events().length >= 4, 10_000);
    const all = sub.received.map((r) => verify(secret, r));
    // In order per payment (two payments here: their events may interleave).
    const messages = all.filter((m) => m.data.imp_uid === paid.imp_uid);
    expect(messages.map((m) => [m.type, m.data.cause])).toEqual([
      ['payment.paid', 'webhook'],
      ['payment.cancelled', 'cancel'],
      ['payment.cancelled', 'cancel'],
    ]);
    // The vbank is issued once; whoever stores it first names the cause: the issuing call, or PortOne's
    // webhook for the issuance when that arrives first.
    const issuedEvents = all.filter((m) => m.data.imp_uid !== paid.imp_uid);
    expect(issuedEvents.map((m) => m.type)).toEqual(['payment.vbank_issued']);
    expect(['charge', 'webhook']).toContain(issuedEvents[0]?.data.cause);
    expect(messages[1]?.data).toMatchObject({ imp_uid: paid.imp_uid, cancelled_amount: 3_000, cancel_amount: 3_000 });
    expect(messages[2]?.data).toMatchObject({
      cancelled_amount: 2_000,
      cancel_amount: 5_000,
      previous_status: 'cancelled',
    });
    // A tampered body or another secret does not verify.
    const first = sub.received[0] as Received;
    expect(() => verify(secret, { ...first, body: first.body.replace('10000', '10001') })).toThrow(
      WebhookVerificationError,
    );
    expect(() => verify(`whsec_${Buffer.alloc(24, 7).toString('base64')}`, first)).toThrow(WebhookVerificationError);

    // The delivery log shows each one delivered once.
    const log = await h.inject({ method: 'GET', url: `/api/v1/notifications/deliveries?imp_uid=${paid.imp_uid}` });
    expect(log.statusCode).toBe(200);
    const items = log.json<{ items: { status: string; attempts: number; type: string }[] }>().items;
    expect(items.map((d) => [d.type, d.status, d.attempts])).toEqual([
      ['payment.cancelled', 'delivered', 1],
      ['payment.cancelled', 'delivered', 1],
      ['payment.paid', 'delivered', 1],
    ]);
  });

  it('a rotated secret: both signatures during the rollover, each verifies alone', async () => {
    const sub = await subscriber();
    const { secret: oldSecret, endpoint } = await subscribe(sub.url);
    const rotated = await h.inject({
      method: 'POST',
      url: `/api/v1/notifications/endpoints/${endpoint.id}/rotate-secret`,
    });
    expect(rotated.statusCode, rotated.body).toBe(200);
    const { secret: newSecret, endpoint: after } = rotated.json<EndpointAnswer>();
    expect(newSecret).not.toBe(oldSecret);
    expect(after.active_secrets).toBe(2);

    await checkout(1_000);
    await eventually(async () => sub.events().length >= 1, 10_000);
    const r = sub.received[0] as Received;
    expect(String(r.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verify(oldSecret, r).type).toBe('payment.paid');
    expect(verify(newSecret, r).type).toBe('payment.paid');
    await eventually(async () => {
      const text = (await h.inject({ method: 'GET', url: '/metrics' })).body;
      expect(text).toMatch(/^notification_attempts_total\{outcome="delivered"\} [1-9]/m);
      expect(text).toMatch(/^notification_delivery_lag_seconds_count [1-9]/m);
    });
  });

  it('a subscriber down for a while receives everything, in order, once it is back', async () => {
    const sub = await subscriber();
    const { secret } = await subscribe(sub.url);
    await sub.stop(); // down: connection refused

    const paid = await checkout(9_000);
    await cancel(paid.imp_uid, 1_000);
    await cancel(paid.imp_uid, 2_000);
    await cancel(paid.imp_uid, 3_000);
    // Failed attempts are logged and retried with backoff.
    await eventually(async () => {
      const rows = await h.db.selectFrom('notification_deliveries').select('attempts').execute();
      return rows.length === 4 && rows.some((d) => d.attempts >= 2);
    }, 10_000);

    await sub.start(); // back, on the same port
    await eventually(async () => sub.events().length >= 4, 15_000);
    const messages = sub.received.map((r) => verify(secret, r));
    expect(messages.map((m) => [m.type, m.data.cancel_amount])).toEqual([
      ['payment.paid', 0],
      ['payment.cancelled', 1_000],
      ['payment.cancelled', 3_000],
      ['payment.cancelled', 6_000],
    ]);
    // The last answer may still be on its way into the log.
    await eventually(async () => {
      const states = await h.db.selectFrom('notification_deliveries').select('status').execute();
      return states.length === 4 && states.every((d) => d.status === 'delivered');
    }, 5_000);
  });

  it('an answer slower than NOTIFY_TIMEOUT_MS and a redirect are failed attempts; the redirect is not followed', async () => {
    const sub = await subscriber();
    await subscribe(sub.url);
    sub.mode = 'hang';
    const started = Date.now();
    await checkout(1_000);
    const failed = async (error: RegExp) =>
      eventually(async () => {
        const [d] = await h.db.selectFrom('notification_deliveries').selectAll().execute();
        expect(d?.status).toBe('pending');
        expect(d?.last_error).toMatch(error);
        return d;
      }, 10_000);
    await failed(/timeout|abort/i);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000); // NOTIFY_TIMEOUT_MS

    sub.mode = 'redirect';
    const redirected = await failed(/^HTTP 307$/);
    expect(redirected?.last_status_code).toBe(307);
    expect(sub.received.map((r) => r.path)).not.toContain('/moved');

    sub.mode = 'ok';
    await eventually(async () => sub.events().length === 1, 10_000);
    expect(sub.received.every((r) => r.path === '/events')).toBe(true);
  });

  it('a restart mid-delivery loses nothing; the replay sends it again with the same webhook-id', async () => {
    // Its own gateway (and database), stopped while a delivery is in flight.
    const g = await startHarness(server as string, { listen: true, env: NOTIFY_ENV });
    try {
      const sub = await subscriber();
      sub.mode = 'hang';
      const created = await g.inject({
        method: 'POST',
        url: '/api/v1/notifications/endpoints',
        payload: { url: sub.url },
      });
      const { secret } = created.json<EndpointAnswer>();
      const res = await g.control<{ response: Payment }>('POST', '/checkout', {
        merchant_uid: uid('nr'),
        amount: 4_000,
      });
      const paid = res.body.response;
      await eventually(
        async () =>
          (await g.db.selectFrom('notification_deliveries').select('claimed_until').executeTakeFirst())
            ?.claimed_until ?? false,
        10_000,
      );
      await g.app.close(); // mid-delivery: the subscriber has the request and has not answered
      sub.mode = 'ok';
      const config = parseConfig({
        ...NOTIFY_ENV,
        PORTONE_API_URL: g.emulator.url,
        MIGRATE_ON_START: 'false',
        RECONCILE_INTERVAL_SECONDS: '0',
      });
      const restarted = await buildTestApp(config, { db: g.db });
      extraApps.push(restarted);
      await eventually(async () => sub.events().length >= 1, 10_000);
      const message = verify(secret, sub.received.find((r) => r.status === 204) as Received);
      expect(message).toMatchObject({ type: 'payment.paid', data: { imp_uid: paid.imp_uid } });
      const delivered = await eventually(async () => {
        const row = await g.db.selectFrom('notification_deliveries').selectAll().executeTakeFirstOrThrow();
        return row.status === 'delivered' && row;
      }, 5_000);

      const replay = await restarted.inject({
        method: 'POST',
        url: `/api/v1/notifications/deliveries/${delivered.id}/replay`,
      });
      expect(replay.statusCode, replay.body).toBe(202);
      await eventually(async () => sub.events().length >= 2, 10_000);
      const ids = sub.received.filter((r) => r.status === 204).map((r) => r.headers['webhook-id']);
      expect(ids[1]).toBe(ids[0]);
    } finally {
      while (extraApps.length > 0) await extraApps.pop()?.close();
      await g.close();
    }
  });

  it('two replicas on one database send each event once', async () => {
    const sub = await subscriber();
    const { secret } = await subscribe(sub.url);
    const config = parseConfig({
      ...NOTIFY_ENV,
      PORTONE_API_URL: h.emulator.url,
      MIGRATE_ON_START: 'false',
      RECONCILE_INTERVAL_SECONDS: '0',
    });
    extraApps.push(await buildTestApp(config, { db: h.db }));
    for (let i = 0; i < 8; i++) await checkout(1_000 + i);
    await eventually(async () => sub.events().length >= 8, 15_000);
    // Let any duplicate that was going to happen arrive.
    await new Promise((r) => setTimeout(r, 500));
    const ids = sub.received.map((r) => verify(secret, r) && String(r.headers['webhook-id']));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(8);
  });

  it('schedules: a revoke through the API is a schedule.revoked event', async () => {
    const sub = await subscriber();
    const { secret } = await subscribe(sub.url);
    const customerUid = uid('ntc');
    const key = await h.inject({
      method: 'POST',
      url: '/api/v1/subscriptions/billing-key',
      payload: { customer_uid: customerUid, card_number: '4111-1111-1111-1111', expiry: '2099-12', birth: '900101' },
    });
    expect(key.statusCode, key.body).toBe(201);
    const merchantUid = uid('nts');
    const now = (await h.control<{ now: number }>('GET', '/clock')).body.now;
    const scheduled = await h.inject({
      method: 'POST',
      url: '/api/v1/subscriptions/schedule',
      payload: {
        customer_uid: customerUid,
        schedules: [{ merchant_uid: merchantUid, schedule_at: now + 86_400, amount: 9_900 }],
      },
    });
    expect(scheduled.statusCode, scheduled.body).toBe(201);
    const revoked = await h.inject({ method: 'DELETE', url: `/api/v1/subscriptions/schedule/${customerUid}` });
    expect(revoked.statusCode, revoked.body).toBe(200);
    await eventually(async () => sub.events().length >= 1, 10_000);
    expect(verify(secret, sub.received[0] as Received)).toMatchObject({
      type: 'schedule.revoked',
      data: { merchant_uid: merchantUid, customer_uid: customerUid, previous_status: 'scheduled', cause: 'api' },
    });
  });

  it('gives up after NOTIFY_GIVE_UP_SECONDS, then the next event of the payment goes; a replay sends the failed one', async () => {
    const g = await startHarness(server as string, { env: { ...NOTIFY_ENV, NOTIFY_GIVE_UP_SECONDS: '1' } });
    try {
      const sub = await subscriber();
      sub.mode = 'fail';
      const created = await g.inject({
        method: 'POST',
        url: '/api/v1/notifications/endpoints',
        payload: { url: sub.url },
      });
      const { secret } = created.json<EndpointAnswer>();
      const paid = (
        await g.control<{ response: Payment }>('POST', '/checkout', { merchant_uid: uid('ng'), amount: 2_000 })
      ).body.response;
      const lookup = await g.inject({ method: 'GET', url: `/api/v1/payments/${paid.imp_uid}` }); // stored: payment.paid
      expect(lookup.statusCode).toBe(200);
      const failed = await eventually(async () => {
        const row = await g.db.selectFrom('notification_deliveries').selectAll().executeTakeFirst();
        return row?.status === 'failed' && row;
      }, 10_000);
      expect(failed.attempts).toBeGreaterThanOrEqual(2);
      expect(failed.last_status_code).toBe(503);

      sub.mode = 'ok';
      const cancelled = await g.inject({
        method: 'POST',
        url: '/api/v1/payments/cancel',
        payload: { imp_uid: paid.imp_uid, amount: 500 },
      });
      expect(cancelled.statusCode, cancelled.body).toBe(200);
      await eventually(async () => sub.events().length >= 1, 10_000);
      expect(sub.events().map((e) => e.type)).toEqual(['payment.cancelled']);

      const replay = await g.inject({ method: 'POST', url: `/api/v1/notifications/deliveries/${failed.id}/replay` });
      expect(replay.statusCode, replay.body).toBe(202);
      await eventually(async () => sub.events().length >= 2, 10_000);
      const accepted = sub.received.filter((r) => r.status === 204);
      expect(accepted.map((r) => verify(secret, r).type)).toEqual(['payment.cancelled', 'payment.paid']);
      const log = await g.inject({ method: 'GET', url: '/api/v1/notifications/deliveries?status=failed' });
      expect(log.json<{ total: number }>().total).toBe(0);
    } finally {
      await g.close();
    }
  });

  it('endpoints from NOTIFY_ENDPOINTS sign with their configured secrets and are read-only in the API', async () => {
    const sub = await subscriber();
    const secret = `whsec_${Buffer.alloc(24, 3).toString('base64')}`;
    const g = await startHarness(server as string, {
      env: { ...NOTIFY_ENV, NOTIFY_ENDPOINTS: JSON.stringify([{ id: 'orders', url: sub.url, secrets: [secret] }]) },
    });
    try {
      const listed = await eventually(async () => {
        const res = await g.inject({ method: 'GET', url: '/api/v1/notifications/endpoints' });
        const items = res.json<{ items: { id: string; source: string }[] }>().items;
        return items.length === 1 && items;
      }, 5_000);
      expect(listed[0]).toMatchObject({ id: 'orders', source: 'config' });
      const patch = await g.inject({
        method: 'PATCH',
        url: '/api/v1/notifications/endpoints/orders',
        payload: { enabled: false },
      });
      expect(patch.statusCode).toBe(409);
      expect(patch.json<{ code: string }>().code).toBe('NOTIFICATION_ENDPOINT_FROM_CONFIG');

      const paid = (
        await g.control<{ response: Payment }>('POST', '/checkout', { merchant_uid: uid('nc'), amount: 3_000 })
      ).body.response;
      await g.inject({ method: 'GET', url: `/api/v1/payments/${paid.imp_uid}` });
      await eventually(async () => sub.events().length >= 1, 10_000);
      expect(verify(secret, sub.received[0] as Received)).toMatchObject({
        type: 'payment.paid',
        data: { imp_uid: paid.imp_uid, cause: 'lookup' },
      });
    } finally {
      await g.close();
    }
  });

  it('a bad NOTIFY_ENDPOINTS stops the start naming the variable', () => {
    expect(() => parseConfig({ NOTIFY_ENDPOINTS: 'not json' })).toThrow(/NOTIFY_ENDPOINTS/);
    expect(() => parseConfig({ NOTIFY_ENDPOINTS: '[{"id":"x","url":"http://a/","secrets":["nope"]}]' })).toThrow(
      /NOTIFY_ENDPOINTS/,
    );
  });

  it('bad input: 400 naming the field; unknown ids: 404', async () => {
    const bad = await h.inject({
      method: 'POST',
      url: '/api/v1/notifications/endpoints',
      payload: { url: 'ftp://x' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ issues: { field: string }[] }>().issues[0]?.field).toBe('body.url');
    const missing = await h.inject({ method: 'GET', url: '/api/v1/notifications/endpoints/ep_nope' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json<{ code: string }>().code).toBe('NOTIFICATION_ENDPOINT_NOT_FOUND');
    const noDelivery = await h.inject({ method: 'POST', url: '/api/v1/notifications/deliveries/999999/replay' });
    expect(noDelivery.statusCode).toBe(404);
  });
});
