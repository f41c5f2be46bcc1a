import { createHmac, hkdfSync } from 'node:crypto';

/** JSON with sorted keys, so `{a,b}` and `{b,a}` hash the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * What identifies a request under its key: method, path and canonical body, under HMAC-SHA256. Keyed,
 * because a body may carry card data: a plain hash would let anyone who reads `idempotency_keys` test
 * guesses of a card number (few enough to try them all) against it.
 */
export function requestHash(hashKey: Uint8Array, method: string, path: string, body: unknown): string {
  return createHmac('sha256', hashKey)
    .update(`${method}\n${path}\n${canonical(body ?? null)}`)
    .digest('hex');
}

/**
 * The request-hash key: IDEMPOTENCY_HASH_KEY, else one derived (HKDF) from the PortOne secret, which
 * the database does not hold either. Changing it makes stored keys mismatch their retries (422).
 */
export function idempotencyHashKey(config: { IDEMPOTENCY_HASH_KEY?: string | undefined; PORTONE_IMP_SECRET: string }) {
  if (config.IDEMPOTENCY_HASH_KEY) return new Uint8Array(Buffer.from(config.IDEMPOTENCY_HASH_KEY, 'utf8'));
  return new Uint8Array(
    hkdfSync('sha256', config.PORTONE_IMP_SECRET, '', 'payment-gateway idempotency request hash', 32),
  );
}
