import { DEFAULT_MERCHANT, type RunningEmulator, startEmulator } from '@repo/portone-emulator';
import { useFixture } from '@repo/test-support';
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

/** An emulator on a manual clock, with its control API; `start()` runs it. */
export class Emulator {
  #running: RunningEmulator | undefined;

  async start(): Promise<this> {
    this.#running = await startEmulator({
      port: 0,
      clock: 'manual',
      now: EMULATOR_EPOCH,
      merchants: [DEFAULT_MERCHANT, OTHER_MERCHANT, { ...AGENCY_MERCHANT, tiers: { '001': 'Gangnam store' } }],
    });
    return this;
  }

  get url(): string {
    if (!this.#running) throw new Error('the emulator is not started (useEmulator starts it in beforeAll)');
    return this.#running.url;
  }

  async close(): Promise<void> {
    await this.#running?.close();
  }

  async control<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.url}/__emulator${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
    });
    const json = (await response.json()) as T;
    if (!response.ok) throw new Error(`control ${method} ${path} -> ${response.status}: ${JSON.stringify(json)}`);
    return json;
  }

  reset = () => this.control('POST', '/reset');
  advance = (seconds: number) => this.control('POST', '/clock/advance', { seconds });
  stats = () => this.control<Stats>('GET', '/stats');
  fault = (rule: FaultRule) => this.control('POST', '/faults', rule);
  clearFaults = () => this.control('DELETE', '/faults');

  /** A paid (or failed) window payment, as if a customer had paid in the browser. */
  async checkout(body: {
    merchant_uid: string;
    amount: number;
    pay_method?: string;
    outcome?: 'paid' | 'failed';
    imp_key?: string;
    tier?: string;
  }): Promise<Payment> {
    return (await this.control<{ response: Payment }>('POST', '/checkout', body)).response;
  }

  async deposit(impUid: string): Promise<Payment> {
    return (await this.control<{ response: Payment }>('POST', `/vbanks/${impUid}/deposit`, {})).response;
  }
}

/** An emulator started now, for a test that needs one of its own (closing it is the test's job). */
export function emulator(): Promise<Emulator> {
  return new Emulator().start();
}

/** The file's emulator: started before its tests, reset before each, closed after them. */
export function useEmulator(): Emulator {
  return useFixture(new Emulator());
}

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

export { DEFAULT_MERCHANT };
