import { mariadb, uid } from '@repo/test-support';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fillParams, type Harness, routeInventory, type SeenRoute, startHarness } from '../helpers.ts';

const server = await mariadb();
const WRITE_KEY = 'fuzz-writer-0123456789';
/** Reproducible: FUZZ_SEED=<n> replays a run; a failure prints its seed and path too. */
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_122);
const RUNS_PER_ROUTE = Number(process.env.FUZZ_RUNS ?? 120);

/** Values that have broken parsers, routers and validators before. */
const hostileStrings = [
  '',
  ' ',
  '../',
  '../../etc/passwd',
  '..%2F..%2Fetc%2Fpasswd',
  '%00',
  'a\u0000b',
  '%',
  '%E0%A4%A',
  '__proto__',
  'constructor',
  'prototype',
  '😀'.repeat(50),
  '\u202e\u0000\uffff',
  'x'.repeat(10_000),
  'NaN',
  'Infinity',
  '-1',
  '1e309',
  '0x10',
  '1.5',
  'null',
  'true',
  '[]',
  '{}',
  "' OR 1=1 --",
  '<script>',
];
const hostileString = fc.oneof(
  fc.constantFrom(...hostileStrings),
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
);
const hostileNumber = fc.oneof(
  fc.constantFrom(0, -0, -1, 0.001, 1e12, 1e12 + 1, 1e308, Number.MAX_SAFE_INTEGER, 2 ** 53 + 1, -1e308),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  hostileNumber,
  fc.boolean(),
  fc.constant(null),
  fc.array(hostileString, { maxLength: 3 }),
  fc.dictionary(hostileString, hostileString, { maxKeys: 3 }),
);

/** Field names the gateway's bodies and queries use, plus prototype pollution keys. */
const fieldNames = [
  'imp_uid',
  'merchant_uid',
  'customer_uid',
  'amount',
  'currency',
  'status',
  'reason',
  'tax_free',
  'vat_amount',
  'checksum',
  'refund_holder',
  'refund_bank',
  'refund_account',
  'vbank_code',
  'vbank_due',
  'vbank_holder',
  'name',
  'card_number',
  'expiry',
  'birth',
  'pwd_2digit',
  'cvc',
  'schedules',
  'schedule_at',
  'page',
  'limit',
  'from',
  'to',
  'include_deleted',
  'card_quota',
  'custom_data',
  'buyer_name',
  '__proto__',
  'constructor',
];
/** A body that is nearly right: real field names with hostile values (reaches deeper validation). */
const nearlyValidBody = fc.dictionary(fc.constantFrom(...fieldNames), hostileValue, { maxKeys: 6 });
const bodies: fc.Arbitrary<unknown> = fc.oneof(
  nearlyValidBody,
  fc.anything({ maxDepth: 3 }),
  fc.record({
    merchant_uid: fc.oneof(hostileString, fc.constant(uid('fuzz'))),
    amount: hostileNumber,
    customer_uid: hostileString,
    imp_uid: hostileString,
  }),
);

const contentTypes = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'application/x-www-form-urlencoded',
  'text/plain',
  'multipart/form-data; boundary=x',
  'application/problem+json',
  'x/y;;;=',
  '',
];

/** The raw payload: JSON of the body, or a lie about it (form text, truncated JSON, a prototype bomb). */
const payloadFor = (body: unknown, style: number): string => {
  switch (style) {
    case 0:
      return JSON.stringify(body) ?? 'null';
    case 1:
      return new URLSearchParams(
        Object.entries(typeof body === 'object' && body !== null ? body : { v: body }).map(
          ([k, v]): [string, string] => [k, typeof v === 'string' ? v : (JSON.stringify(v) ?? '')],
        ),
      ).toString();
    case 2:
      return (JSON.stringify(body) ?? '').slice(0, 7);
    case 3:
      return '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"amount":1}';
    default:
      return `{"amount":${'9'.repeat(400)}}`;
  }
};

const request = (route: SeenRoute) =>
  fc
    .record({
      param: fc.oneof(hostileString, fc.constant('imp_000000000000')),
      encodeParam: fc.boolean(),
      query: fc.dictionary(fc.oneof(fc.constantFrom(...fieldNames), hostileString), hostileString, { maxKeys: 4 }),
      body: bodies,
      style: fc.integer({ min: 0, max: 4 }),
      contentType: fc.constantFrom(...contentTypes),
      idempotencyKey: fc.option(fc.oneof(hostileString, fc.constant('k'.repeat(300)), fc.constant('ok-key-1')), {
        nil: undefined,
      }),
      xff: fc.option(fc.constantFrom('1.2.3.4', 'not-an-ip', '::1, 10.0.0.1', '\u0000'), { nil: undefined }),
    })
    .map((r): InjectOptions => {
      const param = r.encodeParam ? encodeURIComponent(r.param) : r.param.replace(/[?#]/g, '');
      const query = new URLSearchParams(Object.entries(r.query)).toString();
      const headers: Record<string, string> = { 'x-api-key': WRITE_KEY };
      if (r.contentType) headers['content-type'] = r.contentType;
      // Header values must be valid latin-1 for the HTTP layer; what is not is sent percent-encoded.
      const headerSafe = (v: string) => (/^[\x20-\x7e]*$/.test(v) ? v : encodeURIComponent(v));
      if (r.idempotencyKey !== undefined) headers['idempotency-key'] = headerSafe(r.idempotencyKey);
      if (r.xff !== undefined) headers['x-forwarded-for'] = headerSafe(r.xff);
      const hasBody = route.method === 'POST' || route.method === 'DELETE';
      return {
        method: route.method as 'GET',
        url: `${fillParams(route.url, () => param || 'x')}${query ? `?${query}` : ''}`,
        headers,
        ...(hasBody ? { payload: payloadFor(r.body, r.style) } : {}),
      };
    });

/**
 * Property-based fuzzing of every route the app registers (seen by the onRoute hook): hostile params,
 * queries, bodies and headers. The emulator is healthy, so no 5xx at all is acceptable; every 4xx is
 * a problem body; the process never crashes (the app still answers /health afterwards).
 */
describe.runIf(server)('fuzzing every endpoint (fast-check, seeded)', () => {
  let h: Harness;
  const inventory = routeInventory();
  const statuses = new Map<number, number>();

  beforeAll(async () => {
    h = await startHarness(server as string, {
      env: { API_KEYS: `fuzzer:write:${WRITE_KEY}`, PORTONE_TIMEOUT_MS: '3000' },
      deps: { onRoute: inventory.onRoute },
    });
  });
  afterAll(async () => {
    console.info(
      `fuzz: seed ${SEED}, ${RUNS_PER_ROUTE} runs × ${inventory.routes.length} routes; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`,
    );
    await h?.close();
  });

  it('enumerates every route, public ones and the docs included', () => {
    expect(inventory.routes.length).toBeGreaterThanOrEqual(30);
  });

  it('no 5xx, and every 4xx is an application/problem+json with type, title, status, detail and code', async () => {
    expect.hasAssertions();
    for (const route of inventory.routes) {
      await fc.assert(
        fc.asyncProperty(request(route), async (options) => {
          const res = await h.inject(options);
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
          const where = `${route.method} ${route.url} → ${res.statusCode} ${res.body.slice(0, 300)}`;
          expect(res.statusCode, where).toBeLessThan(500);
          if (res.statusCode >= 400 && route.method !== 'HEAD') {
            expect(res.headers['content-type'], where).toMatch(/^application\/problem\+json/);
            const problem = res.json<Record<string, unknown>>();
            for (const member of ['type', 'title', 'status', 'detail', 'code']) {
              expect(problem, `${where}: ${member}`).toHaveProperty(member);
            }
            expect(problem.status, where).toBe(res.statusCode);
          }
        }),
        { seed: SEED, numRuns: RUNS_PER_ROUTE, endOnFailure: true },
      );
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await h.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
  }, 120_000);
});
