import { basename } from 'node:path';
import { Writable } from 'node:stream';
import { DEFAULT_MERCHANT, type RunningEmulator, startEmulator } from '@repo/portone-emulator';
import { freshDatabase, testLogStream } from '@repo/test-support';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse, RouteOptions } from 'fastify';
import type { Kysely } from 'kysely';
import { expect } from 'vitest';
import { type AppDeps, buildApp } from '../src/app.ts';
import { type Config, parseConfig } from '../src/config.ts';
import { createDatabase } from '../src/store/create-database.ts';
import type { Database } from '../src/store/database.ts';
import { migrateToLatest } from '../src/store/migrator.ts';

/** Collects log lines (JSON) written by the app. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void) {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  }
  text(): string {
    return this.lines.join('\n');
  }
  parsed(): Record<string, unknown>[] {
    return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}

/** `payment-gateway.<test file>`: which file's apps wrote a log, for whoever reads a finding. */
export function testLogName(): string {
  try {
    return `payment-gateway.${basename(expect.getState().testPath ?? 'unknown', '.test.ts')}`;
  } catch {
    return 'payment-gateway';
  }
}

/**
 * Builds the gateway the way tests must: when the run collects logs (STACK_TEST_LOG_DIR, from the
 * root `test/global-setup.ts`, whose teardown scans them for secrets), every log line — at `trace`,
 * so nothing a secret could hide in is left out — is also appended to a file there, beside the
 * caller's own `logStream`.
 */
export async function buildTestApp(config: Config, deps: AppDeps = {}): Promise<FastifyInstance> {
  const file = testLogStream(testLogName());
  if (!file) return buildApp(config, deps);
  const inner = deps.logStream;
  return buildApp(
    { ...config, LOG_LEVEL: 'trace' },
    {
      ...deps,
      logStream: {
        write(line: string) {
          file.write(line);
          inner?.write(line);
        },
      },
    },
  );
}

export interface Harness {
  app: FastifyInstance;
  emulator: RunningEmulator;
  db: Kysely<Database>;
  logs: LogCapture;
  /** The gateway's own URL when it listens (webhook tests), else undefined. */
  gatewayUrl: string | undefined;
  /** Calls the emulator's control API. */
  control: <T = unknown>(method: string, path: string, body?: unknown) => Promise<{ status: number; body: T }>;
  inject: (options: InjectOptions) => Promise<LightMyRequestResponse>;
  close: () => Promise<void>;
}

export interface HarnessOptions {
  env?: Record<string, string>;
  /** Listen on a real port and point the emulator's webhooks at it. */
  listen?: boolean;
  webhookFormat?: 'json' | 'form';
  deps?: AppDeps;
}

/** One emulator (manual clock), one database, one gateway — per test file. */
export async function startHarness(server: string, options: HarnessOptions = {}): Promise<Harness> {
  const emulator = await startEmulator({ port: 0, clock: 'manual' });
  const database = await freshDatabase(server, 'gw_test');
  const db = createDatabase({ url: database.url });
  await migrateToLatest(db);
  const logs = new LogCapture();
  const config = parseConfig({
    DATABASE_URL: database.url,
    MIGRATE_ON_START: 'false',
    PORTONE_API_URL: emulator.url,
    PORTONE_IMP_KEY: DEFAULT_MERCHANT.impKey,
    PORTONE_IMP_SECRET: DEFAULT_MERCHANT.impSecret,
    PORTONE_RETRIES: '1',
    PORTONE_TIMEOUT_MS: '1500',
    LOG_LEVEL: 'info',
    WEBHOOK_SWEEP_INTERVAL_MS: '200',
    ...options.env,
  });
  const app = await buildTestApp(config, { db, logStream: logs, ...options.deps });

  const control = async <T>(method: string, path: string, body?: unknown) => {
    const response = await fetch(`${emulator.url}/__emulator${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  };

  let gatewayUrl: string | undefined;
  if (options.listen) {
    gatewayUrl = await app.listen({ port: 0, host: '127.0.0.1' });
    const put = await control('PUT', '/webhook', {
      url: `${gatewayUrl}/api/v1/webhooks/portone`,
      format: options.webhookFormat ?? 'json',
    });
    if (put.status !== 200) throw new Error(`could not point emulator webhooks at the gateway: ${JSON.stringify(put)}`);
  }

  return {
    app,
    emulator,
    db,
    logs,
    gatewayUrl,
    control,
    inject: (o) => app.inject(o),
    close: async () => {
      await app.close();
      await emulator.close();
      await db.destroy();
      await database.drop();
    },
  };
}

/** The fields of a problem body tests look at. */
export interface ProblemBody {
  status: number;
  code: string;
  detail: string;
  issues?: { field: string; message: string }[];
  [key: string]: unknown;
}

/** One registered route, as the `onRoute` hook saw it. */
export interface SeenRoute {
  method: string;
  /** As registered, prefix included: `/api/v1/payments/:imp_uid`. */
  url: string;
  idempotent: boolean;
  /** The route's options as registered; plugins' onRoute hooks (idempotency) add their hooks to it. */
  options: RouteOptions;
}

/**
 * Collects every route the app registers (pass `onRoute` in AppDeps), so tests iterate the real route
 * table instead of a hand-kept list: a route added later is covered without anyone remembering to.
 */
export function routeInventory(): { routes: SeenRoute[]; onRoute: NonNullable<AppDeps['onRoute']> } {
  const routes: SeenRoute[] = [];
  return {
    routes,
    onRoute: (route) => {
      const config = route.config as { idempotent?: boolean } | undefined;
      for (const method of [route.method].flat()) {
        routes.push({ method, url: route.url, idempotent: config?.idempotent === true, options: route });
      }
    },
  };
}

/** The gateway's public routes: health, readiness, PortOne's webhook, the API docs. */
export const isPublicRoute = (url: string) =>
  url === '/health' || url === '/ready' || url === '/api/v1/webhooks/portone' || url.startsWith('/api/v1/docs/');

/** The URL with each `:param` (and a trailing `*`) filled in. */
export const fillParams = (url: string, value: (param: string) => string) =>
  url.replace(/:([a-zA-Z_]+)/g, (_, p: string) => value(p)).replace(/\*$/, 'x');
