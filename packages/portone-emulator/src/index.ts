/**
 * @repo/portone-emulator — a stateful local stand-in for the PortOne (iamport) V1 REST API over real
 * HTTP, plus a control API under `/__emulator`. See README.md for every route and magic value.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { registerControlRoutes } from './control.ts';
import { type Ops, runDueSchedules } from './engine.ts';
import { FaultRegistry } from './faults.ts';
import { createHttpServer, RouteTable } from './http.ts';
import { registerAuthRoutes } from './routes/auth.ts';
import { registerCancelRoutes } from './routes/cancel.ts';
import { registerCustomerRoutes } from './routes/customers.ts';
import { registerPaymentRoutes } from './routes/payments.ts';
import { registerPrepareRoutes } from './routes/prepare.ts';
import { registerScheduleRoutes } from './routes/schedules.ts';
import { registerSubscribeRoutes } from './routes/subscribe.ts';
import { registerVbankRoutes } from './routes/vbanks.ts';
import { Clock, EmulatorState, type Merchant, type StateSnapshot } from './state.ts';
import { WebhookSender } from './webhooks.ts';

export { MAGIC } from './engine.ts';
export type { Merchant } from './state.ts';
export type { WebhookBody, WebhookDelivery, WebhookFormat } from './webhooks.ts';

/** The merchant used when none is configured; matches `.env.example`. */
export const DEFAULT_MERCHANT: Merchant = { impKey: 'imp_emulator_key', impSecret: 'imp_emulator_secret' };

export interface EmulatorOptions {
  /** Default `127.0.0.1`. */
  host?: string;
  /** Default 3003; 0 = a random free port. */
  port?: number;
  /** Default `[DEFAULT_MERCHANT]`. */
  merchants?: Merchant[];
  /** Where V1 webhooks are POSTed; a payment's `notice_url` overrides it. */
  webhookUrl?: string;
  /** Default `json`. */
  webhookFormat?: 'json' | 'form';
  /** Extra webhook attempts (0..5) on network error/timeout/5xx. Default 0, as PortOne. */
  webhookRetries?: number;
  /** Real-time pause between webhook attempts. Default 100 ms. */
  webhookRetryDelayMs?: number;
  /** Per-attempt webhook timeout. Default 10 000 ms. */
  webhookTimeoutMs?: number;
  /** Start of the emulator clock, UNIX seconds. Default: real time. */
  now?: number;
  /** `manual`: time moves only through `POST /__emulator/clock/advance`; `real`: follows real time (+ advances). Default `real`. */
  clock?: 'manual' | 'real';
  /** Whether emulated payments and billing keys are sandbox ones (`include_sandbox`). Default false. */
  sandbox?: boolean;
  /**
   * A JSON file the state (payments, billing keys, schedules, tokens, the clock's reading) is kept in:
   * read at start when it exists, rewritten after every changing request and at close, so a restart
   * remembers what PortOne would. Default: none, the state lives in memory only (tests).
   */
  stateFile?: string;
  /** Called once per answered (or dropped, status 0) request. */
  log?: (line: { method: string; path: string; status: number; ms: number }) => void;
}

export interface RunningEmulator {
  /** Base URL, e.g. `http://127.0.0.1:3003`. */
  url: string;
  port: number;
  /** Stops listening and drops every open connection (including ones held by faults). */
  close(): Promise<void>;
}

/** Starts an emulator and resolves once it is listening. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const host = options.host ?? '127.0.0.1';
  const clock = new Clock(options.clock ?? 'real', options.now);
  const state = new EmulatorState({
    clock,
    merchants: options.merchants?.length ? options.merchants : [DEFAULT_MERCHANT],
    sandbox: options.sandbox ?? false,
  });
  const webhooks = new WebhookSender(
    {
      url: options.webhookUrl ?? null,
      format: options.webhookFormat ?? 'json',
      retries: options.webhookRetries ?? 0,
      retryDelayMs: options.webhookRetryDelayMs ?? 100,
      timeoutMs: options.webhookTimeoutMs ?? 10_000,
    },
    () => state.now(),
  );
  const stateFile = options.stateFile;
  if (stateFile && existsSync(stateFile)) {
    try {
      state.restore(JSON.parse(readFileSync(stateFile, 'utf8')) as StateSnapshot);
    } catch (error) {
      throw new Error(`portone-emulator: cannot read state file ${stateFile}: ${(error as Error).message}`);
    }
  }
  // Written whole to a temporary file and renamed, so a crash mid-write leaves the previous state.
  const save = () => {
    if (!stateFile) return;
    writeFileSync(`${stateFile}.tmp`, JSON.stringify(state.snapshot()));
    renameSync(`${stateFile}.tmp`, stateFile);
  };
  let saveTimer: NodeJS.Timeout | undefined;
  const saveSoon = () => {
    if (!stateFile || saveTimer) return;
    saveTimer = setTimeout(() => {
      saveTimer = undefined;
      save();
    }, 50);
  };
  let url = '';
  const ops: Ops = { state, webhooks, baseUrl: () => url };
  const faults = new FaultRegistry();

  const routes = new RouteTable();
  registerAuthRoutes(routes);
  registerPaymentRoutes(routes);
  registerCancelRoutes(routes);
  registerPrepareRoutes(routes);
  registerVbankRoutes(routes);
  registerCustomerRoutes(routes);
  registerSubscribeRoutes(routes);
  registerScheduleRoutes(routes);
  registerControlRoutes(routes, { ops, faults });

  const log = options.log;
  const server = createHttpServer({
    ops,
    routes,
    faults,
    log: (line) => {
      log?.(line);
      if (line.method !== 'GET') saveSoon();
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 3003, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  url = `http://${host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;

  // With the real clock, due schedules run on their own (checked every second).
  const ticker =
    clock.mode === 'real'
      ? setInterval(() => {
          const run = runDueSchedules(ops);
          if (run.executed > 0) saveSoon();
          void run.deliveries;
        }, 1000)
      : undefined;
  ticker?.unref();

  return {
    url,
    port,
    close: async () => {
      if (ticker) clearInterval(ticker);
      clearTimeout(saveTimer);
      save();
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
