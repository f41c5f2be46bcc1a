/**
 * Test helpers: a running emulator on a random port with a manual clock, a tiny V1 client over
 * `fetch`, and a local `node:http` receiver that records webhooks. A test file takes them with
 * `useHarness()` / `useReceiver()`, which register their own setup and teardown.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { useFixture } from '@repo/test-support';
import { type EmulatorOptions, type RunningEmulator, startEmulator } from '../src/index.ts';

export const KEY = 'imp_emulator_key';
export const SECRET = 'imp_emulator_secret';
/** 2026-03-01T00:00:00Z: a fixed clock start so expiry dates and windows are deterministic. */
export const T0 = 1_772_323_200;

export interface Envelope<T = unknown> {
  code: number;
  message: string | null;
  response: T;
}

// biome-ignore lint/suspicious/noExplicitAny: test payloads are inspected field by field
export type Json = any;

export interface Call {
  status: number;
  body: Envelope<Json>;
  headers: Headers;
}

export class Harness {
  #emulator: RunningEmulator | undefined;

  /** Starts the emulator on 127.0.0.1:0 with a manual clock at T0 unless `options` say otherwise. */
  async start(options: EmulatorOptions = {}): Promise<this> {
    this.#emulator = await startEmulator({ port: 0, clock: 'manual', now: T0, ...options });
    return this;
  }

  get emulator(): RunningEmulator {
    if (!this.#emulator) throw new Error('the harness is not started (useHarness starts it in beforeAll)');
    return this.#emulator;
  }

  get url(): string {
    return this.emulator.url;
  }

  async raw(
    method: string,
    path: string,
    init: { body?: unknown; form?: string; headers?: Record<string, string> } = {},
  ): Promise<Call> {
    const headers: Record<string, string> = { ...init.headers };
    let body: string | undefined;
    if (init.form !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = init.form;
    } else if (init.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.body);
    }
    const res = await fetch(`${this.url}${path}`, { method, headers, body });
    const text = await res.text();
    let parsed: Json;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`${method} ${path}: non-JSON answer ${res.status}: ${text.slice(0, 200)}`);
    }
    return { status: res.status, body: parsed, headers: res.headers } satisfies Call;
  }

  async token(impKey = KEY, impSecret = SECRET): Promise<string> {
    const res = await this.raw('POST', '/users/getToken', { body: { imp_key: impKey, imp_secret: impSecret } });
    if (res.body.code !== 0) throw new Error(`getToken failed: ${JSON.stringify(res.body)}`);
    return res.body.response.access_token as string;
  }

  /** An authenticated V1 call (`Authorization: Bearer`). */
  async api(
    method: string,
    path: string,
    init: { body?: unknown; form?: string; token?: string; headers?: Record<string, string> } = {},
  ): Promise<Call> {
    const token = init.token ?? (await this.token());
    return this.raw(method, path, { ...init, headers: { authorization: `Bearer ${token}`, ...init.headers } });
  }

  /** A control-API call; answers the parsed JSON. */
  async control(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
    const res = await this.raw(method, `/__emulator${path}`, body === undefined ? {} : { body });
    return { status: res.status, body: res.body };
  }

  async checkout(body: Record<string, unknown>): Promise<Json> {
    const res = await this.control('POST', '/checkout', body);
    if (res.body.code !== 0) throw new Error(`checkout failed: ${JSON.stringify(res.body)}`);
    return res.body.response;
  }

  async advance(seconds: number): Promise<{ now: number; executedSchedules: number }> {
    return (await this.control('POST', '/clock/advance', { seconds })).body;
  }

  /** Forgets payments, tokens, faults and webhooks (`POST /__emulator/reset`). */
  async reset(): Promise<void> {
    await this.control('POST', '/reset');
  }

  async close(): Promise<void> {
    await this.#emulator?.close();
  }
}

/** A harness started now, for a test that needs one of its own (closing it is the test's job). */
export function startHarness(options: EmulatorOptions = {}): Promise<Harness> {
  return new Harness().start(options);
}

/**
 * The file's emulator: started before its tests, reset before each (unless `resetEach` is false),
 * closed after them. `options` may be a function, read at start (e.g. for a receiver's URL).
 */
export function useHarness(
  options: EmulatorOptions | (() => EmulatorOptions) = {},
  { resetEach = true }: { resetEach?: boolean } = {},
): Harness {
  const harness = new Harness();
  useFixture({
    start: () => harness.start(typeof options === 'function' ? options() : options),
    close: () => harness.close(),
    ...(resetEach ? { reset: () => harness.reset() } : {}),
  });
  return harness;
}

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  body: Record<string, string>;
}

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;

/** A webhook receiver on 127.0.0.1:0 answering `status()` (default 200) and recording every request. */
export async function startReceiver(status: () => number = () => 200) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const isJson = (req.headers['content-type'] ?? '').includes('json');
      const body = isJson ? JSON.parse(raw) : Object.fromEntries(new URLSearchParams(raw));
      received.push({ path: req.url ?? '/', headers: req.headers, raw, body });
      res.writeHead(status()).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`;
  return {
    url,
    received,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** The file's webhook receiver: started before its tests, emptied before each, closed after them. */
export function useReceiver(status?: () => number): Pick<Receiver, 'url' | 'received'> {
  let receiver: Receiver | undefined;
  const started = () => {
    if (!receiver) throw new Error('the receiver is not started (useReceiver starts it in beforeAll)');
    return receiver;
  };
  useFixture({
    start: async () => {
      receiver = await startReceiver(status);
    },
    close: async () => receiver?.close(),
    reset: async () => {
      started().received.length = 0;
    },
  });
  return {
    get url() {
      return started().url;
    },
    get received() {
      return started().received;
    },
  };
}

export const cardBody = (extra: Record<string, unknown> = {}) => ({
  card_number: '4111-1111-1111-1111',
  expiry: '2030-12',
  birth: '900101',
  pwd_2digit: '12',
  ...extra,
});
