import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Db } from '../store/database.ts';
import { deleteNotificationDeliveriesBefore } from '../store/notification-delivery.repository.ts';
import { deleteNotificationEventsBefore } from '../store/notification-event.repository.ts';
import { deletePortOneCallsBefore } from '../store/portone-call.repository.ts';
import {
  deleteReconciliationChangesBefore,
  deleteReconciliationRunsBefore,
} from '../store/reconciliation.repository.ts';
import { deleteWebhookDeliveriesBefore } from '../store/webhook.repository.ts';

export interface RetentionOptions {
  intervalMs: number;
  /** Rows per DELETE statement. */
  batchSize: number;
  webhookDays: number;
  portoneCallDays: number;
  /** Finished notification deliveries and their events. */
  notificationDays: number;
  /** Reconciliation runs and their changes. */
  reconciliationDays: number;
}

const DAY_MS = 86_400_000;

/**
 * Deletes stored webhook deliveries, PortOne call audit rows, finished notifications and reconciliation runs past their retention, so a flood
 * cannot fill the database. Runs at start and then every `intervalMs`, batch by batch (each batch its
 * own short statement) until nothing is left to delete; ticks never overlap, and closing stops between
 * batches and waits for the one in progress.
 */
async function retentionPlugin(app: FastifyInstance, options: RetentionOptions) {
  const log = app.log.child({ component: 'retention' });
  let running: Promise<void> | undefined;
  let stopped = false;

  const purge = async (
    table: string,
    days: number,
    deleteBatch: (db: Db, before: Date, limit: number) => Promise<number>,
  ) => {
    // Rows are stamped with the system time (not the injectable PortOne clock), so is the cutoff.
    const before = new Date(Date.now() - days * DAY_MS);
    let deleted = 0;
    for (;;) {
      if (stopped) break;
      const n = await deleteBatch(app.db, before, options.batchSize);
      deleted += n;
      if (n < options.batchSize) break;
    }
    if (deleted > 0) log.info({ table, deleted, before }, 'purged rows past retention');
  };

  const tick = () => {
    if (running || stopped) return;
    running = (async () => {
      await purge('webhook_deliveries', options.webhookDays, deleteWebhookDeliveriesBefore);
      await purge('portone_calls', options.portoneCallDays, deletePortOneCallsBefore);
      await purge('notification_deliveries', options.notificationDays, deleteNotificationDeliveriesBefore);
      await purge('notification_events', options.notificationDays, deleteNotificationEventsBefore);
      await purge('reconciliation_changes', options.reconciliationDays, deleteReconciliationChangesBefore);
      await purge('reconciliation_runs', options.reconciliationDays, deleteReconciliationRunsBefore);
    })()
      .catch((err: unknown) => log.error({ err }, 'retention purge failed'))
      .finally(() => {
        running = undefined;
      });
  };

  const timer = setInterval(tick, options.intervalMs);
  timer.unref();
  // A gateway restarted more often than the interval still purges.
  app.addHook('onReady', async () => tick());

  app.addHook('preClose', async () => {
    stopped = true;
    clearInterval(timer);
    await running;
  });
}

export const retentionPurge = fp(retentionPlugin, { name: 'retention-purge', dependencies: ['db'] });
