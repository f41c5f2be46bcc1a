import { readFileSync } from 'node:fs';
import {
  API_PREFIX,
  auth,
  type Clock,
  docs,
  drain,
  echoRequestId,
  fastifyOptions,
  metrics,
  type OpenApiDocument,
  problemHandler,
  systemClock,
  useZod,
} from '@repo/service-kit';
import Fastify, { type FastifyInstance, type RouteOptions } from 'fastify';
import type { Kysely } from 'kysely';
import { CancelTurns } from './cancel-turns.ts';
import type { Config } from './config.ts';
import { translateGatewayError } from './errors.ts';
import { idempotencyHashKey } from './idempotency/request-hash.ts';
import { notificationDispatcher } from './jobs/notification-delivery.ts';
import { reconciler } from './jobs/reconcile.ts';
import { retentionPurge } from './jobs/retention-purge.ts';
import { webhookSweeper } from './jobs/webhook-sweep.ts';
import { db } from './plugins/db.ts';
import { idempotency } from './plugins/idempotency.ts';
import { portone } from './plugins/portone.ts';
import { healthRoutes } from './routes/health/index.ts';
import { notificationRoutes } from './routes/notifications/index.ts';
import { paymentRoutes } from './routes/payments/index.ts';
import { reconciliationRoutes } from './routes/reconciliation/index.ts';
import { subscriptionRoutes } from './routes/subscriptions/index.ts';
import { webhookRoutes } from './routes/webhooks/index.ts';
import type { Database } from './store/database.ts';
import { StoredSnapshots } from './stored-snapshots.ts';

/** What a caller (server.ts, a test) may hand in instead of the defaults. */
export interface AppDeps {
  clock?: Clock;
  /** A database the caller owns; otherwise one is created from DATABASE_URL and closed with the app. */
  db?: Kysely<Database>;
  /** Where log lines go (default stdout). */
  logStream?: { write(line: string): void };
  /**
   * Sees every route as it is registered (an inventory: which routes exist, their methods and
   * config), before any plugin can add one unseen.
   */
  onRoute?: (route: RouteOptions) => void;
}

const { version: VERSION } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};
const DOCS_PREFIX = `${API_PREFIX}/docs/gateway`;

/**
 * What the route schemas cannot say: PortOne may post the webhook form-encoded (the same fields), and
 * an answer replayed for a repeated Idempotency-Key carries `Idempotent-Replayed: true`.
 */
function documentBodiesAndHeaders(document: OpenApiDocument): void {
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const operation of Object.values(item)) {
      const json = operation.requestBody?.content['application/json'];
      if (path === `${API_PREFIX}/webhooks/portone` && json && operation.requestBody) {
        operation.requestBody.content['application/x-www-form-urlencoded'] = json;
      }
      if (!operation.parameters?.some((p) => p.in === 'header' && p.name === 'idempotency-key')) continue;
      // Any stored answer is replayed, errors included.
      for (const response of Object.values(operation.responses ?? {})) {
        response.headers = {
          ...response.headers,
          'Idempotent-Replayed': {
            description: 'true when this is the stored answer to an earlier request with the same Idempotency-Key',
            schema: { type: 'string', enum: ['true'] },
          },
        };
      }
    }
  }
}

export async function buildApp(config: Config, deps: AppDeps = {}): Promise<FastifyInstance> {
  const app = Fastify(
    fastifyOptions({
      name: 'payment-gateway',
      logLevel: config.LOG_LEVEL,
      logRequests: config.LOG_REQUESTS,
      trustedProxies: config.TRUSTED_PROXIES,
      logStream: deps.logStream,
    }),
  );
  if (deps.onRoute) app.addHook('onRoute', deps.onRoute);
  useZod(app);
  echoRequestId(app);
  // The one error handler first: routes keep the handler of when they were added (/metrics included).
  await app.register(problemHandler, { translate: translateGatewayError });
  await app.register(metrics);
  // Closing: sockets that turn idle are closed at once (SIGTERM under load does not wait out the timeout).
  await app.register(drain);

  // 1. Infrastructure: config and clock, the store, the PortOne client.
  app.decorate('config', config);
  app.decorate('clock', deps.clock ?? systemClock);
  app.decorate('cancelTurns', new CancelTurns());
  app.decorate('storedSnapshots', new StoredSnapshots());
  await app.register(db, { url: config.DATABASE_URL, migrate: config.MIGRATE_ON_START, db: deps.db });
  await app.register(portone, {
    baseUrl: config.PORTONE_API_URL,
    impKey: config.PORTONE_IMP_KEY,
    impSecret: config.PORTONE_IMP_SECRET,
    tier: config.PORTONE_TIER,
    timeoutMs: config.PORTONE_TIMEOUT_MS,
    retries: config.PORTONE_RETRIES,
  });

  // 2. Cross-cutting: API keys, OpenAPI docs, Idempotency-Key (the one error handler is set first).
  await app.register(auth, {
    keys: config.API_KEYS,
    localHosts: config.LOCAL_MODE_HOSTS,
  });
  await app.register(docs, {
    title: 'payment-gateway',
    version: VERSION,
    description: 'PortOne (iamport) V1 payments, subscriptions and webhooks behind /api/v1.',
    routePrefix: DOCS_PREFIX,
    finish: documentBodiesAndHeaders,
    tags: [
      { name: 'payments', description: 'Lookups, prepare, verify, cancel, virtual accounts' },
      { name: 'subscriptions', description: 'Billing keys, billing-key payments, schedules' },
      { name: 'webhooks', description: 'PortOne notifications' },
      { name: 'notifications', description: 'Signed notifications of payment changes to internal services' },
      { name: 'reconciliation', description: 'What reconciliation with PortOne found and changed' },
      { name: 'health', description: 'Liveness and readiness' },
    ],
  });
  await app.register(idempotency, {
    hashKey: idempotencyHashKey(config),
    ttlSeconds: config.IDEMPOTENCY_TTL_SECONDS,
    leaseSeconds: config.IDEMPOTENCY_LEASE_SECONDS,
  });

  // 3. Routes.
  await app.register(healthRoutes);
  await app.register(paymentRoutes, { prefix: `${API_PREFIX}/payments` });
  await app.register(subscriptionRoutes, { prefix: `${API_PREFIX}/subscriptions` });
  await app.register(webhookRoutes, {
    prefix: `${API_PREFIX}/webhooks`,
    allowedIps: config.WEBHOOK_ALLOWED_IPS,
    rateLimit: { max: config.WEBHOOK_RATE_LIMIT_MAX, windowMs: config.WEBHOOK_RATE_LIMIT_WINDOW_MS },
  });
  await app.register(notificationRoutes, { prefix: `${API_PREFIX}/notifications` });
  await app.register(reconciliationRoutes, { prefix: `${API_PREFIX}/reconciliation` });

  // 4. Background: webhook deliveries left `received` while PortOne was down; rows past retention;
  //    reconciliation with PortOne; the notification outbox.
  await app.register(webhookSweeper, { intervalMs: config.WEBHOOK_SWEEP_INTERVAL_MS });
  await app.register(retentionPurge, {
    intervalMs: config.RETENTION_PURGE_INTERVAL_MS,
    batchSize: config.RETENTION_PURGE_BATCH_SIZE,
    webhookDays: config.WEBHOOK_RETENTION_DAYS,
    portoneCallDays: config.PORTONE_CALL_RETENTION_DAYS,
    notificationDays: config.NOTIFY_RETENTION_DAYS,
    reconciliationDays: config.RECONCILE_RETENTION_DAYS,
  });
  // Reconciliation with PortOne and the notification outbox (README: design notes).
  if (config.RECONCILE_INTERVAL_SECONDS > 0) {
    await app.register(reconciler, {
      intervalSeconds: config.RECONCILE_INTERVAL_SECONDS,
      windowSeconds: config.RECONCILE_WINDOW_SECONDS,
      concurrency: config.RECONCILE_CONCURRENCY,
      maxBackoffSeconds: config.RECONCILE_MAX_BACKOFF_SECONDS,
      pageSize: config.RECONCILE_PAGE_SIZE,
    });
  }
  await app.register(notificationDispatcher, {
    pollIntervalMs: config.NOTIFY_POLL_INTERVAL_MS,
    concurrency: config.NOTIFY_CONCURRENCY,
    timeoutMs: config.NOTIFY_TIMEOUT_MS,
    retryMinMs: config.NOTIFY_RETRY_MIN_MS,
    retryMaxMs: config.NOTIFY_RETRY_MAX_MS,
    giveUpSeconds: config.NOTIFY_GIVE_UP_SECONDS,
    configEndpoints: config.NOTIFY_ENDPOINTS,
  });

  await app.ready();
  return app;
}
