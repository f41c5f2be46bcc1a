import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { idempotencyHashKey, requestHash } from '../../src/idempotency/request-hash.ts';

describe('the Idempotency-Key request hash', () => {
  const body = { customer_uid: 'c1', card_number: '4111-1111-1111-1111', expiry: '2099-12' };
  const hash = (config: Parameters<typeof idempotencyHashKey>[0]) =>
    requestHash(idempotencyHashKey(config), 'POST', '/api/v1/subscriptions/billing-key', body);

  it('is keyed: without the key, a guess of the card cannot be checked against it', () => {
    const plain = createHash('sha256')
      .update(`POST\n/api/v1/subscriptions/billing-key\n${JSON.stringify(body)}`)
      .digest('hex');
    const keyed = hash({ PORTONE_IMP_SECRET: 'secret-a' });
    expect(keyed).toMatch(/^[0-9a-f]{64}$/);
    expect(keyed).not.toBe(plain);
    // Same request, same key: the same hash, whatever the order of the fields.
    const reordered = { expiry: '2099-12', card_number: '4111-1111-1111-1111', customer_uid: 'c1' };
    expect(
      requestHash(
        idempotencyHashKey({ PORTONE_IMP_SECRET: 'secret-a' }),
        'POST',
        '/api/v1/subscriptions/billing-key',
        reordered,
      ),
    ).toBe(keyed);
  });

  it('uses IDEMPOTENCY_HASH_KEY when set, else a key derived from the PortOne secret', () => {
    const explicit = 'k'.repeat(32);
    expect(hash({ IDEMPOTENCY_HASH_KEY: explicit, PORTONE_IMP_SECRET: 'secret-a' })).toBe(
      hash({ IDEMPOTENCY_HASH_KEY: explicit, PORTONE_IMP_SECRET: 'secret-b' }),
    );
    expect(hash({ PORTONE_IMP_SECRET: 'secret-a' })).not.toBe(hash({ PORTONE_IMP_SECRET: 'secret-b' }));
    // The derived key is not the secret itself.
    expect(hash({ PORTONE_IMP_SECRET: explicit })).not.toBe(
      hash({ IDEMPOTENCY_HASH_KEY: explicit, PORTONE_IMP_SECRET: 'x' }),
    );
  });

  it('refuses a short IDEMPOTENCY_HASH_KEY, naming it', () => {
    expect(() => parseConfig({ IDEMPOTENCY_HASH_KEY: 'short' })).toThrow(
      /IDEMPOTENCY_HASH_KEY: at least 32 characters/,
    );
  });
});
