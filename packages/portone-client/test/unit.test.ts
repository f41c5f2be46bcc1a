import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { maskSensitive } from '../src/errors.ts';
import {
  PaymentSchema,
  PortOneApiError,
  PortOneNotFoundError,
  PortOneResponseError,
  PortOneUnavailableError,
} from '../src/index.ts';
import { fillRoute, toQueryString } from '../src/query.ts';
import { PagedScheduleResultSchema } from '../src/schemas/schedule.ts';
import { failureName, parseRetryAfter } from '../src/transport/failure.ts';
import { interpretResponse } from '../src/transport/response.ts';
import { TokenStore } from '../src/transport/token-store.ts';

const A = { impKey: 'imp_a', impSecret: 'secret_a' };
const B = { impKey: 'imp_b', impSecret: 'secret_b' };

describe('query and routes', () => {
  it('writes bracket arrays and nested keys, skipping undefined', () => {
    expect(toQueryString({ imp_uid: ['a', 'b'], merchant_uid: undefined, include_sandbox: true, page: 2 })).toBe(
      '?imp_uid%5B%5D=a&imp_uid%5B%5D=b&include_sandbox=true&page=2',
    );
    expect(toQueryString({ extra: { requester: 'admin' }, reason: 'a b' })).toBe(
      '?extra%5Brequester%5D=admin&reason=a%20b',
    );
    expect(toQueryString({ x: undefined })).toBe('');
  });

  it('fills routes, drops an absent optional segment and encodes values', () => {
    expect(fillRoute('/payments/find/{merchant_uid}/{payment_status?}', { merchant_uid: 'o/1' })).toEqual({
      path: '/payments/find/o%2F1',
      pattern: '/payments/find/{merchant_uid}',
    });
    expect(
      fillRoute('/payments/find/{merchant_uid}/{payment_status?}', { merchant_uid: 'o', payment_status: 'paid' }),
    ).toEqual({ path: '/payments/find/o/paid', pattern: '/payments/find/{merchant_uid}/{payment_status}' });
    expect(() => fillRoute('/payments/{imp_uid}', {})).toThrow(/imp_uid/);
  });
});

describe('Retry-After', () => {
  it('reads seconds and HTTP dates (against the response Date header)', () => {
    expect(parseRetryAfter({ 'retry-after': '3' }, 0)).toBe(3000);
    expect(
      parseRetryAfter(
        { 'retry-after': 'Wed, 21 Oct 2026 07:28:10 GMT', date: 'Wed, 21 Oct 2026 07:28:00 GMT' },
        Date.parse('2030-01-01'),
      ),
    ).toBe(10_000);
    expect(
      parseRetryAfter({ 'retry-after': 'Wed, 21 Oct 2026 07:28:10 GMT' }, Date.parse('Wed, 21 Oct 2026 07:28:05 GMT')),
    ).toBe(5_000);
    expect(parseRetryAfter({ 'retry-after': 'soon' }, 0)).toBeUndefined();
    expect(parseRetryAfter({}, 0)).toBeUndefined();
  });
});

describe('response interpretation', () => {
  const spec = { operation: 'payments.get', schema: PaymentSchema };
  const facts = { attempts: 2, outcomeKnownIfAmbiguous: true, nowMs: 0 };
  const envelope = (code: number, message: string | null, response: unknown = null) =>
    JSON.stringify({ code, message, response });

  it('treats code != 0 as a business failure whatever the status', () => {
    const call = () => interpretResponse(spec, 200, {}, envelope(1, '이미 전액취소된 주문입니다.'), facts);
    expect(call).toThrow(PortOneApiError);
    expect(call).toThrow('PortOne payments.get failed (HTTP 200, code 1): 이미 전액취소된 주문입니다.');
  });

  it('maps 404, 5xx (even without JSON) and 207/404 of multi-lookups', () => {
    expect(() => interpretResponse(spec, 404, {}, envelope(-1, 'x'), facts)).toThrow(PortOneNotFoundError);
    const unavailable = (() => {
      try {
        interpretResponse(spec, 502, { 'retry-after': '2' }, '<html>bad gateway</html>', facts);
      } catch (error) {
        return error;
      }
    })();
    expect(unavailable).toBeInstanceOf(PortOneUnavailableError);
    expect(unavailable).toMatchObject({ status: 502, retryAfterMs: 2000, attempts: 2 });
    expect((unavailable as Error).message).not.toContain('html');
    const multi = { operation: 'payments.getMany', schema: z.array(PaymentSchema), multi: true };
    expect(interpretResponse(multi, 404, {}, envelope(-1, 'x'), facts)).toEqual({ status: 404, data: [] });
    expect(interpretResponse(multi, 207, {}, envelope(0, null, []), facts)).toEqual({ status: 207, data: [] });
  });

  it('rejects bodies that are not envelopes or do not match, naming paths but not values', () => {
    expect(() => interpretResponse(spec, 200, {}, 'not json at all 4092020012345678', facts)).toThrow(
      PortOneResponseError,
    );
    try {
      interpretResponse(spec, 200, {}, envelope(0, null, { imp_uid: 42, card_number: '4092020012345678' }), facts);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(PortOneResponseError);
      const issues = (error as PortOneResponseError).issues;
      expect(issues.map((i) => i.path)).toContain('imp_uid');
      expect(JSON.stringify(issues)).not.toContain('4092020012345678');
    }
  });

  it('masks card numbers and token-like strings PortOne echoes in messages', () => {
    expect(maskSensitive('유효하지않은 카드번호 4092-0200-1234-5678 입니다')).toBe(
      '유효하지않은 카드번호 ****5678 입니다',
    );
    expect(maskSensitive('token a9ace025c90c0da2161075da6ddd3492a2fca776 expired')).toBe('token [redacted] expired');
    expect(maskSensitive('imp_448280090638 not found')).toBe('imp_448280090638 not found');
    const error = (() => {
      try {
        interpretResponse(spec, 200, {}, envelope(-1, '카드번호 4092020012345678 오류'), facts);
      } catch (e) {
        return e as PortOneApiError;
      }
    })();
    expect(error?.message).toContain('****5678');
    expect(error?.portoneMessage).not.toContain('4092020012345678');
  });

  it('names the error class of an HTTP answer for onCall', () => {
    expect(failureName(200, 0)).toBeUndefined();
    expect(failureName(207, 0)).toBeUndefined();
    expect(failureName(200, 1)).toBe('PortOneApiError');
    expect(failureName(401, -1)).toBe('PortOneAuthError');
    expect(failureName(429, undefined)).toBe('PortOneUnavailableError');
    expect(failureName(404, -1)).toBe('PortOneNotFoundError');
  });
});

describe('schemas', () => {
  const payment = {
    imp_uid: 'imp_1',
    merchant_uid: 'o1',
    amount: 1000,
    cancel_amount: 0,
    currency: 'KRW',
    status: 'partial_refunded_someday',
    sandbox: false,
    pay_method: 'brandnewpay',
    card_type: null,
    field_added_in_2030: { anything: true },
  };

  it('tolerates new fields and new enum values, keeping the unknown fields', () => {
    const parsed = PaymentSchema.parse(payment);
    expect(parsed.pay_method).toBe('brandnewpay');
    expect(parsed.status).toBe('partial_refunded_someday');
    expect((parsed as Record<string, unknown>).field_added_in_2030).toEqual({ anything: true });
  });

  it('requires what the spec requires', () => {
    const { imp_uid: _dropped, ...withoutId } = payment;
    expect(PaymentSchema.safeParse(withoutId).success).toBe(false);
    expect(PaymentSchema.safeParse({ ...payment, amount: null }).success).toBe(false);
  });

  it('reads schedule lists paged or as a bare array', () => {
    const schedule = {
      customer_uid: 'c',
      merchant_uid: 'm',
      schedule_at: 1,
      amount: 1,
      schedule_status: 'scheduled',
      payment_status: null,
    };
    expect(PagedScheduleResultSchema.parse([schedule, schedule])).toMatchObject({
      total: 2,
      previous: 0,
      next: 0,
      list: [schedule, schedule],
    });
    expect(PagedScheduleResultSchema.parse({ total: 5, previous: 1, next: 3, list: [schedule] })).toMatchObject({
      total: 5,
      next: 3,
    });
  });
});

describe('TokenStore', () => {
  function store(options: { margin?: number; max?: number; lifetime?: number } = {}) {
    const clock = { now: 1_000_000 };
    const fetches: string[] = [];
    let serial = 0;
    let release: (() => void) | undefined;
    let gate: Promise<void> | undefined;
    const tokens = new TokenStore({
      now: () => clock.now,
      refreshMarginMs: options.margin ?? 60_000,
      max: options.max ?? 10,
      fetchToken: async (credentials) => {
        fetches.push(credentials.impKey);
        if (gate) await gate;
        serial += 1;
        // PortOne's clock is far from the local one; only the difference matters.
        return {
          access_token: `${credentials.impKey}-${serial}`,
          now: 50,
          expired_at: 50 + (options.lifetime ?? 1800),
        };
      },
    });
    const hold = () => {
      gate = new Promise((resolve) => {
        release = () => {
          gate = undefined;
          resolve();
        };
      });
    };
    return { tokens, clock, fetches, hold, release: () => release?.() };
  }

  it('single-flights concurrent requests per key', async () => {
    const { tokens, fetches, hold, release } = store();
    hold();
    const pending = Promise.all([...Array.from({ length: 10 }, () => tokens.get(A)), tokens.get(B)]);
    release();
    const results = await pending;
    expect(new Set(results.map((t) => t.access_token))).toEqual(new Set(['imp_a-1', 'imp_b-2']));
    expect(fetches).toEqual(['imp_a', 'imp_b']);
  });

  it('refreshes inside the margin, using the lifetime PortOne reported', async () => {
    const { tokens, clock, fetches } = store({ margin: 60_000 });
    await tokens.get(A);
    clock.now += 1_739_000; // 61 s left
    await tokens.get(A);
    expect(fetches).toHaveLength(1);
    clock.now += 2_000; // 59 s left
    expect((await tokens.get(A)).access_token).toBe('imp_a-2');
    expect(fetches).toHaveLength(2);
  });

  it('falls back to the extension window when the margin exceeds the lifetime', async () => {
    const { tokens, clock, fetches } = store({ margin: 3_600_000 });
    await tokens.get(A);
    clock.now += 1_000_000;
    await tokens.get(A);
    expect(fetches).toHaveLength(1);
    clock.now += 771_000; // 29 s before expiry
    await tokens.get(A);
    expect(fetches).toHaveLength(2);
  });

  it('invalidates only the token it was told about', async () => {
    const { tokens, fetches } = store();
    const first = await tokens.get(A);
    tokens.invalidate(A, 'some-older-token');
    expect((await tokens.get(A)).access_token).toBe(first.access_token);
    tokens.invalidate(A, first.access_token);
    expect((await tokens.get(A)).access_token).not.toBe(first.access_token);
    expect(fetches).toHaveLength(2);
  });

  it('does not share a token between the same key with another secret', async () => {
    const { tokens, fetches } = store();
    await tokens.get(A);
    await tokens.get({ impKey: A.impKey, impSecret: 'guessed' });
    expect(fetches).toEqual(['imp_a', 'imp_a']);
  });

  it('is bounded (least recently used merchant goes first)', async () => {
    const { tokens, fetches } = store({ max: 2 });
    await tokens.get(A);
    await tokens.get(B);
    await tokens.get({ impKey: 'imp_c', impSecret: 'c' });
    expect(tokens.size).toBe(2);
    await tokens.get(A);
    expect(fetches).toEqual(['imp_a', 'imp_b', 'imp_c', 'imp_a']);
  });

  it('lets one caller abort its wait without failing the shared request', async () => {
    const { tokens, fetches, hold, release } = store();
    hold();
    const controller = new AbortController();
    const aborted = tokens.get(A, { signal: controller.signal });
    const other = tokens.get(A);
    controller.abort(new Error('gave up'));
    await expect(aborted).rejects.toThrow('gave up');
    release();
    expect((await other).access_token).toBe('imp_a-1');
    expect(fetches).toHaveLength(1);
  });
});
