import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { purgeExpiredKeys } from '../idempotency/key.ts';
import { jobContext, type ServiceContext } from '../service-context.ts';
import { listUnprocessedWebhooks, markWebhookProcessed } from '../store/webhook.repository.ts';
import { markFailed, processDelivery } from '../webhooks/deliveries.ts';
import { startJob } from './runner.ts';

export interface SweeperOptions {
  intervalMs: number;
}

/**
 * One sweep: processes deliveries left `received` (PortOne was down) or `failed`, oldest first.
 * Deliveries younger than `graceMs` are left to the request that is handling them.
 */
export async function sweepWebhooks(
  ctx: ServiceContext,
  graceMs: number,
  limit = 50,
  signal?: AbortSignal,
): Promise<number> {
  const pending = await listUnprocessedWebhooks(ctx.db, { receivedBefore: new Date(Date.now() - graceMs), limit });
  let done = 0;
  for (const delivery of pending) {
    if (signal?.aborted) break; // shutting down: the rest waits for the next start
    if (!delivery.impUid || !delivery.status) {
      await markWebhookProcessed(ctx.db, delivery.id, 'ignored', { outcome: { reason: 'no imp_uid or status' } });
      continue;
    }
    try {
      const state = await processDelivery(
        ctx,
        { id: delivery.id, impUid: delivery.impUid, status: delivery.status, merchantUid: delivery.merchantUid },
        signal,
      );
      if (state === 'received') break; // PortOne still down: the next tick tries again.
      done += 1;
    } catch (error) {
      ctx.log.error({ err: error, webhookId: delivery.id }, 'webhook sweep failed for a delivery');
      await markFailed(ctx, delivery.id, error);
    }
  }
  return done;
}

/**
 * Background upkeep on one timer: webhook deliveries that stayed `received` (PortOne was down when
 * they arrived) are processed again, and expired idempotency keys are purged. Closing aborts a pass's
 * PortOne calls: a sweep of many deliveries while PortOne is slow must not hold up shutdown past its
 * timeout (what it did not finish stays `received` for the next start).
 */
async function sweeperPlugin(app: FastifyInstance, options: SweeperOptions) {
  startJob(app, {
    component: 'sweeper',
    everyMs: options.intervalMs,
    async pass(log, signal) {
      const processed = await sweepWebhooks(jobContext(app, log), Math.min(options.intervalMs, 10_000), 50, signal);
      if (processed > 0) log.info({ processed }, 'swept webhook deliveries');
      if (!signal.aborted) await purgeExpiredKeys(app.db);
    },
    failed: (log, err) => log.error({ err }, 'sweep failed'),
  });
}

export const webhookSweeper = fp(sweeperPlugin, { name: 'webhook-sweeper', dependencies: ['db', 'portone'] });
