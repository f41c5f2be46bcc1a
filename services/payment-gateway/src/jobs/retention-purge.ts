import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
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
import { startJob } from './runner.ts';

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
 * Deletes stored webhook deliveries, PortOne call audit rows, finished notifications and reconciliation
 * runs past their retention, so a flood cannot fill the database. Runs at start and then every
 * `intervalMs`, batch by batch (each batch its own short statement) until nothing is left to delete;
 * closing stops between batches and waits for the one in progress.
 */
async function retentionPlugin(app: FastifyInstance, options: RetentionOptions) {
  const purge = async (
    log: FastifyBaseLogger,
    signal: AbortSignal,
    table: string,
    days: number,
    deleteBatch: (db: Db, before: Date, limit: number) => Promise<number>,
  ) => {
    // Rows are stamped with the system time (not the injectable PortOne clock), so is the cutoff.
    const before = new Date(Date.now() - days * DAY_MS);
    let deleted = 0;
    for (;;) {
      if (signal.aborted) break;
      const n = await deleteBatch(app.db, before, options.batchSize);
      deleted += n;
      if (n < options.batchSize) break;
    }
    if (deleted > 0) log.info({ table, deleted, before }, 'purged rows past retention');
  };

  startJob(app, {
    component: 'retention',
    everyMs: options.intervalMs,
    atReady: true,
    async pass(log, signal) {
      await purge(log, signal, 'webhook_deliveries', options.webhookDays, deleteWebhookDeliveriesBefore);
      await purge(log, signal, 'portone_calls', options.portoneCallDays, deletePortOneCallsBefore);
      await purge(log, signal, 'notification_deliveries', options.notificationDays, deleteNotificationDeliveriesBefore);
      await purge(log, signal, 'notification_events', options.notificationDays, deleteNotificationEventsBefore);
      await purge(log, signal, 'reconciliation_changes', options.reconciliationDays, deleteReconciliationChangesBefore);
      await purge(log, signal, 'reconciliation_runs', options.reconciliationDays, deleteReconciliationRunsBefore);
    },
    failed: (log, err) => log.error({ err }, 'retention purge failed'),
  });
}

export const retentionPurge = fp(retentionPlugin, { name: 'retention-purge', dependencies: ['db'] });
