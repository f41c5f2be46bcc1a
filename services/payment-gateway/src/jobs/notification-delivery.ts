import { Agent, exchange } from '@repo/portone-client/transport';
import { Counter, Histogram } from '@repo/service-kit';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Webhook } from 'standardwebhooks';
import type { Db } from '../store/database.ts';
import {
  type AttemptOutcome,
  claimDeliveries,
  type DueDelivery,
  findDueDeliveries,
  recordAttempts,
} from '../store/notification-delivery.repository.ts';
import { activeSecrets, syncConfigEndpoints } from '../store/notification-endpoint.repository.ts';
import { startJob } from './runner.ts';

export interface DispatcherOptions {
  pollIntervalMs: number;
  concurrency: number;
  timeoutMs: number;
  retryMinMs: number;
  retryMaxMs: number;
  giveUpSeconds: number;
  /** NOTIFY_ENDPOINTS: stored (and the others from config disabled) at start. */
  configEndpoints: readonly { id: string; url: string; secrets: readonly string[] }[];
}

/**
 * The Standard Webhooks headers for one message: one `v1,<sig>` per active secret, space-separated
 * (during a rotation the subscriber verifies with whichever secret it has).
 */
export function signatureHeaders(delivery: DueDelivery, now: Date): Record<string, string> {
  const secrets = activeSecrets(delivery.secrets, now);
  const signatures = secrets.map((secret) => new Webhook(secret).sign(delivery.messageId, now, delivery.payload));
  return {
    'content-type': 'application/json',
    'user-agent': 'payment-gateway-notifications',
    'webhook-id': delivery.messageId,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': signatures.join(' '),
  };
}

/** Exponential backoff with full jitter: attempt n waits up to min(max, min·2^(n−1)). */
export function retryDelayMs(attempts: number, minMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(30, Math.max(0, attempts - 1)));
  return Math.max(minMs, Math.round(Math.random() * ceiling));
}

/**
 * POSTs one delivery and reads the whole answer; its status. One dispatch on the dispatcher's own
 * undici Agent: with `fetch` a notification cost the gateway ~0.4 ms more CPU (0.91-0.94 against
 * 0.51-0.55 ms, first deliveries of webhooks with an endpoint subscribed vs none), and `fetch`
 * loads Node's second copy of undici. A redirect is not followed: a 3xx is a failed attempt.
 */
async function send(http: Agent, delivery: DueDelivery, timeoutMs: number, signal: AbortSignal) {
  const url = new URL(delivery.url);
  const answer = await exchange(
    http,
    {
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: 'POST',
      headers: signatureHeaders(delivery, new Date()),
      body: delivery.payload,
    },
    AbortSignal.any([AbortSignal.timeout(timeoutMs), signal]),
  );
  return answer.status;
}

/** What one attempt ended as, for /metrics. */
export interface AttemptReport {
  status: 'delivered' | 'pending' | 'failed';
  /** From the event's creation to this attempt's end. */
  lagSeconds: number;
}

/** Sends one claimed delivery; the error (a non-2xx answer or the failure to get one) or null. */
async function attempt(http: Agent, delivery: DueDelivery, timeoutMs: number, signal: AbortSignal) {
  try {
    const statusCode = await send(http, delivery, timeoutMs, signal);
    return { statusCode, error: statusCode < 200 || statusCode >= 300 ? `HTTP ${statusCode}` : null };
  } catch (err) {
    return { statusCode: null, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
}

/**
 * One pass: finds what is due (in order per endpoint and payment) and sends it `concurrency` at a
 * time. Each group is claimed in one UPDATE and its outcomes written in one (per distinct outcome),
 * so a delivery costs the database a fraction of a statement, not a claim and a record of its own.
 */
export async function dispatchOnce(
  http: Agent,
  db: Db,
  options: DispatcherOptions,
  log: FastifyBaseLogger,
  signal: AbortSignal,
  onAttempt?: (attempt: AttemptReport) => void,
) {
  const due = await findDueDeliveries(db, new Date(), options.concurrency * 4);
  let sent = 0;
  for (let i = 0; i < due.length && !signal.aborted; i += options.concurrency) {
    const group = due.slice(i, i + options.concurrency);
    // The claim outlasts one attempt, so a sender that died mid-attempt is replaced only after it.
    const claim = await claimDeliveries(
      db,
      group.map((d) => d.id),
      options.timeoutMs + 5_000,
      new Date(),
    );
    const mine = group.filter((d) => claim.ids.includes(d.id)); // the others, another replica has
    const results = await Promise.all(mine.map((d) => attempt(http, d, options.timeoutMs, signal)));
    const at = new Date();
    const outcomes = mine.map((next, k): AttemptOutcome => {
      const { statusCode, error } = results[k] ?? { statusCode: null, error: 'not sent' };
      const givesUp = at.getTime() - next.createdAt.getTime() >= options.giveUpSeconds * 1000;
      const status = error === null ? 'delivered' : givesUp && !signal.aborted ? 'failed' : 'pending';
      // Cut short by shutdown: due again at once (another replica or the next start sends it).
      const delay = signal.aborted ? 0 : retryDelayMs(next.attempts + 1, options.retryMinMs, options.retryMaxMs);
      return {
        id: next.id,
        status,
        statusCode,
        error,
        ...(status === 'pending' ? { nextAttemptAt: new Date(at.getTime() + delay) } : {}),
      };
    });
    await recordAttempts(db, claim.token, at, outcomes);
    for (const [k, outcome] of outcomes.entries()) {
      const next = mine[k];
      if (!next) continue;
      onAttempt?.({ status: outcome.status, lagSeconds: (at.getTime() - next.createdAt.getTime()) / 1000 });
      if (outcome.status === 'delivered') sent += 1;
      else
        log[outcome.status === 'failed' ? 'error' : 'warn'](
          {
            deliveryId: next.id,
            endpointId: next.endpointId,
            attempts: next.attempts + 1,
            statusCode: outcome.statusCode,
            error: outcome.error,
          },
          outcome.status === 'failed' ? 'notification given up' : 'notification attempt failed',
        );
    }
  }
  return sent;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Asks the dispatcher to look for work now (after this process wrote an event). */
    notifyDispatcher: () => void;
  }
}

/** /metrics: attempts by outcome (delivered, retry, failed = given up) and the lag of delivered ones. */
function attemptMetrics(app: FastifyInstance): (attempt: AttemptReport) => void {
  const registers = [app.metricsRegistry];
  const attempts = new Counter({
    name: 'notification_attempts_total',
    help: 'Notification delivery attempts, by outcome: delivered, retry (will be tried again), failed (given up)',
    labelNames: ['outcome'],
    registers,
  });
  const lag = new Histogram({
    name: 'notification_delivery_lag_seconds',
    help: "From a payment change's event to its delivery",
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600],
    registers,
  });
  return ({ status, lagSeconds }) => {
    attempts.inc({ outcome: status === 'pending' ? 'retry' : status });
    if (status === 'delivered') lag.observe(lagSeconds);
  };
}

/**
 * Delivers the outbox: polls every `pollIntervalMs` (and at once when nudged), passes never overlap
 * within a process, and per-delivery claims keep replicas from sending one delivery concurrently.
 * A pass that found work is followed by another at once. Closing aborts in-flight sends (their
 * claims expire, and the deliveries are sent again later: at least once).
 */
async function dispatcherPlugin(app: FastifyInstance, options: DispatcherOptions) {
  let synced = false;
  const onAttempt = attemptMetrics(app);
  // Keep-alive connections to the endpoints; closed with the app, after the last pass.
  const http = new Agent({ connect: { timeout: options.timeoutMs } });
  const nudge = startJob(app, {
    component: 'notifications',
    everyMs: options.pollIntervalMs,
    atReady: true,
    queue: true,
    async pass(log, signal) {
      // At the first pass that can reach the tables (the gateway may start before its migrations ran).
      if (!synced) {
        await syncConfigEndpoints(app.db, options.configEndpoints);
        synced = true;
      }
      return (await dispatchOnce(http, app.db, options, log, signal, onAttempt)) > 0;
    },
    failed: (log, err, closing) => {
      if (!closing) log.warn({ err }, 'notification pass failed');
    },
  });
  app.decorate('notifyDispatcher', nudge);
  app.addHook('onClose', async () => {
    await http.close();
  });
}

export const notificationDispatcher = fp(dispatcherPlugin, { name: 'notification-dispatcher', dependencies: ['db'] });
