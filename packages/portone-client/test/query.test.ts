import { describe, expect, it } from 'vitest';
import { compileRoute, toQueryString } from '../src/query.ts';

const fillRoute = (route: string, params: Record<string, string>) => compileRoute(route)(params);

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
