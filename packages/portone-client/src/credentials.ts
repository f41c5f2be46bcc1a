/** A merchant's V1 REST API credentials. */
export interface Credentials {
  /** V1 REST API key (`imp_key`). */
  impKey: string;
  /** V1 REST API secret (`imp_secret`). */
  impSecret: string;
  /** Sub-store (Tier) code, sent as the `Tier` header on every authenticated call. */
  tier?: string | undefined;
}

/** The last argument of every client method. */
export interface CallOptions {
  /** Aborts the call, including waits between retries; the promise rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
  /** Credentials for this call instead of the factory's default (several merchants in one process). */
  credentials?: Credentials | undefined;
}

/**
 * An imp_key safe to log: the first and last 4 characters of a long key (enough to tell merchants
 * apart in logs, never the whole key), only the first 4 of a short one.
 */
export function maskImpKey(impKey: string): string {
  return impKey.length >= 12 ? `${impKey.slice(0, 4)}…${impKey.slice(-4)}` : `${impKey.slice(0, 4)}…`;
}
