import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from '../../src/transport/failure.ts';

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
