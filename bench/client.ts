/**
 * Client part: token requests per 1,000 concurrent calls (cold cache, target 1; warm, target 0) and
 * the client's median per-call latency against a bare undici request with a pre-fetched token.
 */
import { createPortOneClient } from '@repo/portone-client';
import { Agent, request } from 'undici';
import { median, type Row, type Service } from './lib.ts';

const KEY = { impKey: 'imp_emulator_key', impSecret: 'imp_emulator_secret' };

async function control<T>(emulator: Service, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${emulator.url}/__emulator${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return (await res.json()) as T;
}

export async function paidPayment(emulator: Service, merchantUid: string, amount = 10_000): Promise<string> {
  const out = await control<{ response: { imp_uid: string } }>(emulator, '/checkout', {
    merchant_uid: merchantUid,
    amount,
  });
  return out.response.imp_uid;
}

const tokenRequests = async (emulator: Service) =>
  (await control<{ tokenRequests: Record<string, number> }>(emulator, '/stats')).tokenRequests[KEY.impKey] ?? 0;

export async function benchClient(emulator: Service, repeats: number): Promise<Row[]> {
  const cold: number[] = [];
  const warm: number[] = [];
  // No /__emulator/reset here: it forgets every token, the lookup anchor's too (fetched once at its
  // start), which then answered the gateway section's lookups with 401s. A new client is cold by itself.
  for (let i = 0; i < repeats; i++) {
    const impUid = await paidPayment(emulator, `bench_client_${i}`);
    const client = createPortOneClient({ baseUrl: emulator.url, credentials: KEY });
    const before = await tokenRequests(emulator);
    await Promise.all(Array.from({ length: 1000 }, () => client.payments.get({ imp_uid: impUid })));
    const afterCold = await tokenRequests(emulator);
    await Promise.all(Array.from({ length: 1000 }, () => client.payments.get({ imp_uid: impUid })));
    const afterWarm = await tokenRequests(emulator);
    cold.push(afterCold - before);
    warm.push(afterWarm - afterCold);
    await client.close();
  }

  // Sequential calls, one at a time, so the ratio is the client's own overhead per call.
  const impUid = await paidPayment(emulator, 'bench_client_latency');
  const client = createPortOneClient({ baseUrl: emulator.url, credentials: KEY });
  const agent = new Agent({ connections: 4 });
  const tokenRes = await request(`${emulator.url}/users/getToken`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ imp_key: KEY.impKey, imp_secret: KEY.impSecret }),
    dispatcher: agent,
  });
  const token = ((await tokenRes.body.json()) as { response: { access_token: string } }).response.access_token;
  const calls = 400;
  const clientMedians: number[] = [];
  const bareMedians: number[] = [];
  await client.payments.get({ imp_uid: impUid }); // warm the pool and the token
  for (let r = 0; r < repeats; r++) {
    // Interleave the two so machine noise hits both alike.
    const c: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < calls; i++) {
      let t = performance.now();
      await client.payments.get({ imp_uid: impUid });
      c.push(performance.now() - t);
      t = performance.now();
      const res = await request(`${emulator.url}/payments/${impUid}`, {
        headers: { authorization: `Bearer ${token}` },
        dispatcher: agent,
      });
      await res.body.json();
      b.push(performance.now() - t);
      if (res.statusCode !== 200) throw new Error(`bare undici lookup answered ${res.statusCode}: not a baseline`);
    }
    clientMedians.push(median(c));
    bareMedians.push(median(b));
  }
  await client.close();
  await agent.close();
  const cm = median(clientMedians);
  const bm = median(bareMedians);
  return [
    {
      section: 'client',
      metric: 'token requests per 1,000 concurrent calls, cold cache',
      value: String(median(cold)),
      target: '1',
      met: median(cold) === 1,
    },
    {
      section: 'client',
      metric: 'token requests per 1,000 concurrent calls, warm cache',
      value: String(median(warm)),
      target: '0',
      met: median(warm) === 0,
    },
    {
      section: 'client',
      metric: 'median latency per GET /payments/{imp_uid} (ms), client vs bare undici',
      value: cm.toFixed(3),
      baseline: bm.toFixed(3),
      ratio: (cm / bm).toFixed(2),
    },
  ];
}
