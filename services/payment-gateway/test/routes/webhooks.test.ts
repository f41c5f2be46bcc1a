import { createPortOneClient, type Payment } from '@repo/portone-client';
import { DEFAULT_MERCHANT } from '@repo/portone-emulator';
import { eventually, mariadb, uid } from '@repo/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { buildTestApp, type Harness, type ProblemBody, startHarness } from '../helpers.ts';

const server = await mariadb();

interface EmulatorDelivery {
  body: { imp_uid: string; status: string };
  responseStatus: number | null;
  error: string | null;
}

describe.runIf(server)('POST /webhooks/portone (emulator sends real webhooks to the listening gateway)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness(server as string, { listen: true });
  });
  afterAll(async () => {
    await h?.close();
  });

  async function deliveries(impUid: string) {
    return h.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('imp_uid', '=', impUid)
      .orderBy('id', 'asc')
      .execute();
  }

  async function storedStatus(impUid: string) {
    return (await h.db.selectFrom('payments').select('status').where('imp_uid', '=', impUid).executeTakeFirst())
      ?.status;
  }

  async function checkout(amount: number, extra: Record<string, unknown> = {}) {
    const res = await h.control<{ code: number; response: Payment }>('POST', '/checkout', {
      merchant_uid: uid('wh'),
      amount,
      ...extra,
    });
    expect(res.body.code).toBe(0);
    return res.body.response;
  }

  const hook = () => `${h.gatewayUrl}/api/v1/webhooks/portone`;
  /** Where a checkout's own webhook goes when a test wants to send it later itself. */
  const nowhere = 'http://127.0.0.1:9/unused';

  async function send(impUid: string, status?: string, times?: number) {
    const res = await h.control<{ deliveries: EmulatorDelivery[] }>('POST', '/webhooks/send', {
      imp_uid: impUid,
      url: hook(),
      ...(status ? { status } : {}),
      ...(times ? { times } : {}),
    });
    expect(res.status).toBe(200);
    return res.body.deliveries;
  }

  it('stores a paid webhook before acknowledging, re-fetches the payment and stores PortOne’s answer', async () => {
    const paid = await checkout(12000);
    // The checkout itself sent `paid`; the emulator answers after the delivery finished.
    const log = (await h.control<EmulatorDelivery[]>('GET', '/webhooks')).body.filter(
      (d) => d.body.imp_uid === paid.imp_uid,
    );
    expect(log).toHaveLength(1);
    expect(log[0]?.responseStatus).toBe(200);

    const [delivery] = await deliveries(paid.imp_uid);
    expect(delivery).toMatchObject({ state: 'processed', status: 'paid', source_ip: '127.0.0.1' });
    expect(delivery?.content_type).toContain('application/json');
    expect(JSON.parse(delivery?.raw_body ?? '{}')).toMatchObject({ imp_uid: paid.imp_uid, status: 'paid' });
    expect(await storedStatus(paid.imp_uid)).toBe('paid');
  });

  it('recognises a duplicate delivery and does not process it twice', async () => {
    const paid = await checkout(3000);
    const sent = await send(paid.imp_uid, 'paid', 2);
    expect(sent.every((d) => d.responseStatus === 200)).toBe(true);
    const rows = await deliveries(paid.imp_uid);
    expect(rows.map((r) => r.state)).toEqual(['processed', 'duplicate', 'duplicate']);
  });

  it('counts acknowledged deliveries by state in /metrics', async () => {
    const counted = async () => {
      const text = (await h.inject({ method: 'GET', url: '/metrics' })).body;
      const value = (state: string) =>
        Number(new RegExp(`^webhook_deliveries_total\\{state="${state}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
      return { processed: value('processed'), duplicate: value('duplicate') };
    };
    const before = await counted();
    const paid = await checkout(2000, { notice_url: nowhere });
    await send(paid.imp_uid, 'paid', 3);
    const after = { processed: before.processed + 1, duplicate: before.duplicate + 2 };
    expect(await counted()).toEqual(after);
    // A scrape reads the counts; it does not add them again.
    expect(await counted()).toEqual(after);
  });

  it('acknowledges a burst of concurrent deliveries each with its own stored row, one processing per event', async () => {
    const payments = await Promise.all(Array.from({ length: 4 }, () => checkout(1000, { notice_url: nowhere })));
    // Every payment's `paid` five times, interleaved, all at once over real HTTP.
    const bodies = Array.from({ length: 20 }, (_, i) => {
      const p = payments[i % 4]!;
      return JSON.stringify({ imp_uid: p.imp_uid, merchant_uid: p.merchant_uid, status: 'paid', copy: i });
    });
    const acks = await Promise.all(
      bodies.map(async (body) => {
        const res = await fetch(hook(), { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        expect(res.status).toBe(200);
        return (await res.json()) as { id: number; state: string };
      }),
    );
    const rows = await h.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where(
        'id',
        'in',
        acks.map((a) => a.id),
      )
      .execute();
    const byId = new Map(rows.map((r) => [Number(r.id), r]));
    for (const [i, ack] of acks.entries()) {
      expect(byId.get(ack.id)?.raw_body).toBe(bodies[i]);
    }
    for (const p of payments) {
      const states = (await deliveries(p.imp_uid)).map((r) => r.state);
      expect(states).toHaveLength(5);
      // Copies that came before the first was confirmed are processed on their own (idempotently).
      expect(states.every((s) => s === 'processed' || s === 'duplicate')).toBe(true);
      expect(await storedStatus(p.imp_uid)).toBe('paid');
    }
  });

  it('answers 503 to a delivery that cannot be stored, and only to it, among concurrent ones', async () => {
    const paid = await checkout(1000, { notice_url: nowhere });
    const body = JSON.stringify({ imp_uid: paid.imp_uid, merchant_uid: paid.merchant_uid, status: 'paid' });
    // content_type is VARCHAR(255): MariaDB refuses this delivery's row, whichever group it is in.
    const unstorable = `application/json; note=${'x'.repeat(300)}`;
    const types = Array.from({ length: 12 }, (_, i) => (i === 5 ? unstorable : 'application/json'));
    const answers = await Promise.all(
      types.map(async (type) => {
        const res = await fetch(hook(), { method: 'POST', headers: { 'content-type': type }, body });
        return { status: res.status, body: (await res.json()) as { code?: string; id?: number } };
      }),
    );
    expect(answers.map((a) => a.status)).toEqual(types.map((t) => (t === unstorable ? 503 : 200)));
    expect(answers[5]?.body.code).toBe('WEBHOOK_NOT_STORED');
    const stored = await deliveries(paid.imp_uid);
    expect(stored).toHaveLength(11);
    expect(stored.every((r) => r.content_type === 'application/json')).toBe(true);
  });

  it('acts on nothing for a delivery it could not store, though PortOne may already have been asked', async () => {
    const paid = await checkout(1000, { notice_url: nowhere });
    const res = await fetch(hook(), {
      method: 'POST',
      // content_type is VARCHAR(255): MariaDB refuses the row.
      headers: { 'content-type': `application/json; note=${'x'.repeat(300)}` },
      body: JSON.stringify({ imp_uid: paid.imp_uid, merchant_uid: paid.merchant_uid, status: 'paid' }),
    });
    expect(res.status).toBe(503);
    expect(await deliveries(paid.imp_uid)).toHaveLength(0);
    expect(await storedStatus(paid.imp_uid)).toBeUndefined();
  });

  it('keeps a cancellation when a late `paid` arrives after `cancelled` (out of order)', async () => {
    const paid = await checkout(10000, { notice_url: nowhere });
    const cancelled = await h.inject({
      method: 'POST',
      url: '/api/v1/payments/cancel',
      payload: { imp_uid: paid.imp_uid, reason: 'customer' },
    });
    expect(cancelled.statusCode).toBe(200);
    // The events were paid then cancelled; they arrive in reverse order.
    const batch = await h.control<{ deliveries: EmulatorDelivery[] }>('POST', '/webhooks/send-batch', {
      events: [
        { imp_uid: paid.imp_uid, status: 'paid' },
        { imp_uid: paid.imp_uid, status: 'cancelled' },
      ],
      order: 'reverse',
      url: hook(),
    });
    expect(batch.status).toBe(200);
    expect(batch.body.deliveries.map((d) => d.body.status)).toEqual(['cancelled', 'paid']);
    expect(await storedStatus(paid.imp_uid)).toBe('cancelled');
    // The late `paid` is genuine history (PortOne confirms it was paid), processed, and undoes nothing.
    const states = (await deliveries(paid.imp_uid)).map((r) => `${r.status}:${r.state}`);
    expect(states).toEqual(['cancelled:processed', 'paid:processed']);
    const row = await h.db.selectFrom('payments').selectAll().where('imp_uid', '=', paid.imp_uid).executeTakeFirst();
    expect(Number(row?.cancel_amount)).toBe(10000);
  });

  it('records a forged status as `forged` and changes nothing', async () => {
    const issued = await h.inject({
      method: 'POST',
      url: '/api/v1/payments/vbank',
      payload: { merchant_uid: uid('vb'), amount: 20000, vbank_code: '004' },
    });
    const impUid = issued.json<Payment>().imp_uid;
    expect(await storedStatus(impUid)).toBe('ready');
    await send(impUid, 'paid');
    const rows = await deliveries(impUid);
    const forged = rows.find((r) => r.status === 'paid');
    expect(forged?.state).toBe('forged');
    expect(String(forged?.outcome)).toContain('PortOne says ready');
    expect(await storedStatus(impUid)).toBe('ready');

    const unknown = await h.inject({
      method: 'POST',
      url: '/api/v1/webhooks/portone',
      payload: { imp_uid: 'imp_000000000000', merchant_uid: 'nope', status: 'paid' },
    });
    expect(unknown.statusCode).toBe(200);
    expect(unknown.json()).toMatchObject({ received: true, state: 'forged' });
  });

  it('a forged `cancelled` keeps no claim: the genuine one after the real cancel is processed', async () => {
    const paid = await checkout(7000, { notice_url: nowhere });
    await h.inject({ url: `/api/v1/payments/${paid.imp_uid}` });
    const event = { imp_uid: paid.imp_uid, merchant_uid: paid.merchant_uid, status: 'cancelled' };
    const forged = await h.inject({ method: 'POST', url: '/api/v1/webhooks/portone', payload: event });
    expect(forged.json()).toMatchObject({ state: 'forged' });
    expect(await storedStatus(paid.imp_uid)).toBe('paid');

    // The merchant cancels in PortOne's console; PortOne's notification has the same body.
    const direct = createPortOneClient({ baseUrl: h.emulator.url, credentials: DEFAULT_MERCHANT });
    await direct.payments.cancel({ imp_uid: paid.imp_uid, reason: 'console' });
    await direct.close();
    const genuine = await h.inject({ method: 'POST', url: '/api/v1/webhooks/portone', payload: event });
    expect(genuine.json()).toMatchObject({ state: 'processed' });
    expect(await storedStatus(paid.imp_uid)).toBe('cancelled');
    // Confirmed now: a re-send of it is a duplicate.
    const resend = await h.inject({ method: 'POST', url: '/api/v1/webhooks/portone', payload: event });
    expect(resend.json()).toMatchObject({ state: 'duplicate', id: expect.any(Number) });
    expect((await deliveries(paid.imp_uid)).map((r) => r.state)).toEqual(['forged', 'processed', 'duplicate']);
  });

  it('records a forged amount (PortOne confirms paid, but not the prepared amount) as `forged`', async () => {
    const order = uid('forge');
    // Customer pays 100 first; the 10000 registration came too late to block the window.
    const paid = await h.control<{ response: Payment }>('POST', '/checkout', {
      merchant_uid: order,
      amount: 100,
      notice_url: nowhere,
    });
    await h.inject({
      method: 'POST',
      url: '/api/v1/payments/prepare',
      payload: { merchant_uid: order, amount: 10000 },
    });
    await send(paid.body.response.imp_uid, 'paid');
    const rows = await deliveries(paid.body.response.imp_uid);
    expect(rows.at(-1)?.state).toBe('forged');
    expect(await storedStatus(paid.body.response.imp_uid)).toBeUndefined();
  });

  it('takes a virtual account from ready to paid on the deposit webhook', async () => {
    const issued = await h.inject({
      method: 'POST',
      url: '/api/v1/payments/vbank',
      payload: { merchant_uid: uid('vbank'), amount: 50000, vbank_code: '88', vbank_holder: '홍길동' },
    });
    const impUid = issued.json<Payment>().imp_uid;
    expect(await storedStatus(impUid)).toBe('ready');
    const deposit = await h.control<{ code?: number }>('POST', `/vbanks/${impUid}/deposit`, {});
    expect(deposit.status).toBe(200);
    expect(await storedStatus(impUid)).toBe('paid');
    expect((await deliveries(impUid)).at(-1)).toMatchObject({ status: 'paid', state: 'processed' });
  });

  it('stores the scheduled payment as paid after the clock passes schedule_at', async () => {
    const customerUid = uid('customer');
    const key = await h.inject({
      method: 'POST',
      url: '/api/v1/subscriptions/billing-key',
      payload: { customer_uid: customerUid, card_number: '4111-1111-1111-1111', expiry: '2099-12' },
    });
    expect(key.statusCode).toBe(201);
    const now = (await h.control<{ now: number }>('GET', '/clock')).body.now;
    const merchantUid = uid('schedule');
    const scheduled = await h.inject({
      method: 'POST',
      url: '/api/v1/subscriptions/schedule',
      payload: {
        customer_uid: customerUid,
        schedules: [{ merchant_uid: merchantUid, schedule_at: now + 3600, amount: 9900, name: '정기결제' }],
      },
    });
    expect(scheduled.statusCode).toBe(201);
    await h.control('POST', '/clock/advance', { seconds: 7200 });
    const row = await h.db
      .selectFrom('payments')
      .selectAll()
      .where('merchant_uid', '=', merchantUid)
      .executeTakeFirst();
    expect(row).toMatchObject({ status: 'paid', customer_uid: customerUid });
    expect(Number(row?.amount)).toBe(9900);

    const listed = await h.inject({ method: 'GET', url: `/api/v1/subscriptions/schedule/${customerUid}` });
    expect(listed.json<{ items: { merchant_uid: string; schedule_status: string }[] }>().items).toEqual([
      expect.objectContaining({ merchant_uid: merchantUid, schedule_status: 'executed' }),
    ]);
  });

  it('accepts form-encoded webhooks', async () => {
    await h.control('PUT', '/webhook', { url: `${h.gatewayUrl}/api/v1/webhooks/portone`, format: 'form' });
    try {
      const paid = await checkout(5500);
      const [delivery] = await deliveries(paid.imp_uid);
      expect(delivery?.content_type).toContain('application/x-www-form-urlencoded');
      expect(delivery?.raw_body).toContain(`imp_uid=${paid.imp_uid}`);
      expect(delivery?.state).toBe('processed');
    } finally {
      await h.control('PUT', '/webhook', { url: `${h.gatewayUrl}/api/v1/webhooks/portone`, format: 'json' });
    }
  });

  it('acknowledges while PortOne is down, leaves the delivery `received`, and the sweeper finishes it', async () => {
    await h.control('POST', '/faults', { method: 'GET', path: '/payments/:imp_uid', kind: 'status', status: 503 });
    let cleared = false;
    try {
      // The customer pays; PortOne's webhook reaches us while PortOne's API answers 503.
      const paid = await checkout(8000);
      const sent = (await h.control<EmulatorDelivery[]>('GET', '/webhooks')).body.filter(
        (d) => d.body.imp_uid === paid.imp_uid,
      );
      expect(sent.map((d) => d.responseStatus)).toEqual([200]);
      const [row] = await deliveries(paid.imp_uid);
      expect(row?.state).toBe('received');
      expect(await storedStatus(paid.imp_uid)).toBeUndefined();
      // Still down: the sweeper keeps it `received`.
      await new Promise((r) => setTimeout(r, 600));
      expect((await deliveries(paid.imp_uid))[0]?.state).toBe('received');
      await h.control('DELETE', '/faults');
      cleared = true;
      await eventually(async () => (await deliveries(paid.imp_uid))[0]?.state === 'processed', 8000);
      expect(await storedStatus(paid.imp_uid)).toBe('paid');
    } finally {
      if (!cleared) await h.control('DELETE', '/faults');
    }
  });

  it('answers malformed webhooks with 400 naming the field, and unknown content types with 415', async () => {
    const missing = await h.inject({ method: 'POST', url: '/api/v1/webhooks/portone', payload: { status: 'paid' } });
    expect(missing.statusCode).toBe(400);
    expect(missing.json<ProblemBody>().issues?.map((i) => i.field)).toContain('body.imp_uid');
    const noStatus = await h.inject({
      method: 'POST',
      url: '/api/v1/webhooks/portone',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'imp_uid=imp_1',
    });
    expect(noStatus.statusCode).toBe(400);
    expect(noStatus.json<ProblemBody>().issues?.map((i) => i.field)).toContain('body.status');
    const xml = await h.inject({
      method: 'POST',
      url: '/api/v1/webhooks/portone',
      headers: { 'content-type': 'application/xml' },
      payload: '<x/>',
    });
    expect(xml.statusCode).toBe(415);
  });

  it('is public even when API keys are configured, and honours WEBHOOK_ALLOWED_IPS through the trusted proxy', async () => {
    const config = parseConfig({
      DATABASE_URL: 'sqlite::memory:',
      PORTONE_API_URL: h.emulator.url,
      API_KEYS: 'billing:write:0123456789abcdef0123',
      WEBHOOK_ALLOWED_IPS: '52.78.100.19,52.78.48.223,52.78.5.241',
      LOG_LEVEL: 'silent',
    });
    const app = await buildTestApp({ ...config, MIGRATE_ON_START: false }, { db: h.db });
    try {
      const paid = await checkout(1000);
      const direct = await app.inject({
        method: 'POST',
        url: '/api/v1/webhooks/portone',
        remoteAddress: '10.1.2.3',
        payload: { imp_uid: paid.imp_uid, status: 'paid' },
      });
      expect(direct.statusCode).toBe(403);
      expect(direct.json<ProblemBody>().code).toBe('WEBHOOK_SOURCE_FORBIDDEN');
      // A client cannot plant X-Forwarded-For: only the loopback/trusted proxy's header counts.
      const planted = await app.inject({
        method: 'POST',
        url: '/api/v1/webhooks/portone',
        remoteAddress: '10.1.2.3',
        headers: { 'x-forwarded-for': '52.78.100.19' },
        payload: { imp_uid: paid.imp_uid, status: 'paid' },
      });
      expect(planted.statusCode).toBe(403);
      const viaProxy = await app.inject({
        method: 'POST',
        url: '/api/v1/webhooks/portone',
        remoteAddress: '127.0.0.1',
        headers: { 'x-forwarded-for': '52.78.100.19' },
        payload: { imp_uid: paid.imp_uid, status: 'paid' },
      });
      expect(viaProxy.statusCode).toBe(200);
      const rows = await deliveries(paid.imp_uid);
      expect(rows.at(-1)?.source_ip).toBe('52.78.100.19');
    } finally {
      await app.close();
    }
  });
});
