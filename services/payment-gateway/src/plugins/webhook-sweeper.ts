import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { jobContext } from '../service-context.ts';
import { purgeExpiredIdempotency } from '../store/idempotency.repository.ts';
import { sweepWebhooks } from '../webhooks/deliveries.ts';

export interface SweeperOptions {
  intervalMs: number;
}

/**
 * Background upkeep on one timer: webhook deliveries that stayed `received` (PortOne was down when
 * they arrived) are processed again, and expired idempotency keys are purged. Ticks never overlap;
 * onClose stops the timer and waits for a running tick.
 */
async function sweeperPlugin(app: FastifyInstance, options: SweeperOptions) {
  const log = app.log.child({ component: 'sweeper' });
  let running: Promise<void> | undefined;
  let stopped = false;
  // Closing aborts a tick's PortOne calls: a sweep of many deliveries while PortOne is slow must not
  // hold up shutdown past its timeout (what it did not finish stays `received` for the next start).
  const closing = new AbortController();

  const tick = async () => {
    const ctx = jobContext(app, log);
    const processed = await sweepWebhooks(ctx, Math.min(options.intervalMs, 10_000), 50, closing.signal);
    if (processed > 0) log.info({ processed }, 'swept webhook deliveries');
    if (!closing.signal.aborted) await purgeExpiredIdempotency(app.db);
  };

  const timer = setInterval(() => {
    if (running || stopped) return;
    running = tick()
      .catch((err: unknown) => log.error({ err }, 'sweep failed'))
      .finally(() => {
        running = undefined;
      });
  }, options.intervalMs);
  timer.unref();

  app.addHook('preClose', async () => {
    stopped = true;
    clearInterval(timer);
    closing.abort();
    await running;
  });
}

export const webhookSweeper = fp(sweeperPlugin, { name: 'webhook-sweeper', dependencies: ['db', 'portone'] });
