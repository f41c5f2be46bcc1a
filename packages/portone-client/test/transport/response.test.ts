import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { maskSensitive } from '../../src/errors.ts';
import {
  PaymentSchema,
  PortOneApiError,
  PortOneNotFoundError,
  PortOneResponseError,
  PortOneUnavailableError,
} from '../../src/index.ts';
import { failureName } from '../../src/transport/failure.ts';
import { interpretResponse } from '../../src/transport/response.ts';

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
