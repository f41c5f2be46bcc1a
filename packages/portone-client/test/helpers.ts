import { DEFAULT_MERCHANT, startEmulator } from '@repo/portone-emulator';
import { createPortOneClient, type Payment, type PortOneCallEvent, type PortOneClientOptions } from '../src/index.ts';

/** Emulator stats (`GET /__emulator/stats`). */
export interface Stats {
  tokenRequests: Record<string, number>;
  requests: number;
  byRoute: Record<string, number>;
}

export interface FaultRule {
  method?: string;
  path: string;
  kind: 'latency' | 'status' | 'reset' | 'timeout-after-commit';
  status?: number;
  retryAfter?: number;
  delayMs?: number;
  times?: number;
  rate?: number;
}

/** Emulator start time (UNIX seconds), fixed so clocks in tests are deterministic. */
export const EMULATOR_EPOCH = 1_790_000_000;

export const OTHER_MERCHANT = { impKey: 'imp_other_merchant', impSecret: 'imp_other_secret_value' } as const;
/** An agency account with one sub-store (Tier `001`). */
export const AGENCY_MERCHANT = { impKey: 'imp_agency_key', impSecret: 'imp_agency_secret_value' } as const;

/** A running emulator on a manual clock, with its control API. */
export async function emulator() {
  const emu = await startEmulator({
    port: 0,
    clock: 'manual',
    now: EMULATOR_EPOCH,
    merchants: [DEFAULT_MERCHANT, OTHER_MERCHANT, { ...AGENCY_MERCHANT, tiers: { '001': 'Gangnam store' } }],
  });
  const control = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${emu.url}/__emulator${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
    });
    const json = (await response.json()) as T;
    if (!response.ok) throw new Error(`control ${method} ${path} -> ${response.status}: ${JSON.stringify(json)}`);
    return json;
  };
  return {
    url: emu.url,
    close: () => emu.close(),
    reset: () => control('POST', '/reset'),
    advance: (seconds: number) => control('POST', '/clock/advance', { seconds }),
    stats: () => control<Stats>('GET', '/stats'),
    fault: (rule: FaultRule) => control('POST', '/faults', rule),
    clearFaults: () => control('DELETE', '/faults'),
    /** A paid (or failed) window payment, as if a customer had paid in the browser. */
    checkout: async (body: {
      merchant_uid: string;
      amount: number;
      pay_method?: string;
      outcome?: 'paid' | 'failed';
      imp_key?: string;
      tier?: string;
    }) => (await control<{ response: Payment }>('POST', '/checkout', body)).response,
    deposit: async (impUid: string) =>
      (await control<{ response: Payment }>('POST', `/vbanks/${impUid}/deposit`, {})).response,
  };
}

export type Emulator = Awaited<ReturnType<typeof emulator>>;

/** A client with fast retries, recording its onCall events, with a clock the test moves. */
export function testClient(url: string, overrides: Partial<PortOneClientOptions> = {}) {
  const events: PortOneCallEvent[] = [];
  const clock = { now: EMULATOR_EPOCH * 1000 + 123 };
  const client = createPortOneClient({
    baseUrl: url,
    credentials: DEFAULT_MERCHANT,
    retry: { retries: 3, minTimeoutMs: 10, maxTimeoutMs: 40, maxRetryTimeMs: 5_000 },
    timeouts: { connectMs: 1_000, headersMs: 2_000, bodyMs: 2_000 },
    onCall: (event) => events.push(event),
    now: () => clock.now,
    ...overrides,
  });
  return { client, events, clock };
}

let counter = 0;
/** A merchant_uid unique within the run. */
export function uid(prefix = 'order'): string {
  counter += 1;
  return `${prefix}_${process.pid}_${counter}_${Math.random().toString(36).slice(2, 8)}`;
}

export { DEFAULT_MERCHANT };
