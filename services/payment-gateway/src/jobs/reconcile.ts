import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Payment } from '@repo/portone-client';
import { Counter, Gauge, unixSeconds } from '@repo/service-kit';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { jobContext, type ServiceContext } from '../service-context.ts';
import { acquireLease, extendLease } from '../store/job-lease.repository.ts';
import { upsertPaymentFromPortOne } from '../store/payment.repository.ts';
import {
  type ChangeReason,
  dueRechecks,
  finishRun,
  type RunTotals,
  recordChange,
  recordRecheck,
  startRun,
} from '../store/reconciliation.repository.ts';
import { startJob } from './runner.ts';

export interface ReconcileOptions {
  intervalSeconds: number;
  /** How far back each sweep of PortOne's lists looks (status time: paid_at, cancelled_at, ...). */
  windowSeconds: number;
  /** PortOne calls in flight at once. */
  concurrency: number;
  /** Longest wait between two re-fetches of one non-final payment. */
  maxBackoffSeconds: number;
  /** Payments per page of PortOne's list, and non-final payments re-fetched per run. */
  pageSize: number;
  /** Who this replica is in `job_leases` and in each run's record. */
  holder?: string;
}

const LEASE = 'reconcile';
/** While a run works its lease is this long, renewed as it goes; a dead runner's lease so runs out. */
const WORKING_LEASE_MS = 120_000;
/** A stop after this many pages of one sweep: PortOne caps `/payments/status` at 90 days anyway. */
const MAX_PAGES = 100;
const FINAL = new Set(['paid', 'cancelled', 'failed']);

export function defaultHolder(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/** Runs `work` over `items`, at most `concurrency` at once. */
async function eachLimited<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>) {
  const queue = [...items];
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, queue.length)) }, worker));
}

interface RunState extends RunTotals {
  runId: number;
}

/** Stores what PortOne says and records a change of status or cancel amount under the run. */
async function reconcilePayment(ctx: ServiceContext, run: RunState, payment: Payment, reason: ChangeReason) {
  if (payment.sandbox === true && !ctx.config.ACCEPT_SANDBOX_PAYMENTS) return;
  const stored = await upsertPaymentFromPortOne(ctx.db, payment, { cause: 'reconciliation' });
  const before = stored.previous;
  // Inserted or updated: the store now holds exactly what PortOne said.
  const after = {
    impUid: payment.imp_uid,
    merchantUid: payment.merchant_uid,
    status: payment.status,
    cancelAmount: payment.cancel_amount,
  };
  const moved =
    stored.outcome === 'inserted' ||
    (stored.outcome === 'updated' && (before?.status !== after.status || before?.cancelAmount !== after.cancelAmount));
  if (!moved) return;
  run.changed += 1;
  if (stored.outcome === 'inserted') run.discovered += 1;
  await recordChange(ctx.db, run.runId, {
    impUid: after.impUid,
    merchantUid: after.merchantUid,
    fromStatus: before?.status ?? null,
    toStatus: after.status,
    fromCancelAmount: before?.cancelAmount ?? null,
    toCancelAmount: after.cancelAmount,
    reason,
    at: new Date(),
  });
  ctx.log.info(
    { impUid: after.impUid, from: before?.status ?? null, to: after.status, reason },
    'reconciliation changed a payment',
  );
}

/** Non-final payments due for a look: re-fetched, stored, and rescheduled with backoff (or dropped once final). */
async function recheck(ctx: ServiceContext, options: ReconcileOptions, run: RunState, signal: AbortSignal) {
  const due = await dueRechecks(ctx.db, new Date(), options.pageSize);
  const backoff = (attempts: number) =>
    Math.min(options.maxBackoffSeconds, options.intervalSeconds * 2 ** Math.min(20, attempts - 1)) * 1000;
  await eachLimited(due, options.concurrency, async (impUid) => {
    if (signal.aborted) return;
    try {
      const payment = await ctx.portone.payments.get({ imp_uid: impUid, include_sandbox: true }, { signal });
      run.rechecked += 1;
      await reconcilePayment(ctx, run, payment, 'recheck');
      await recordRecheck(ctx.db, impUid, FINAL.has(payment.status), new Date(), backoff);
    } catch (err) {
      if (signal.aborted) return;
      run.errors += 1;
      ctx.log.warn({ err, impUid }, 'reconciliation could not re-fetch a payment');
      await recordRecheck(ctx.db, impUid, false, new Date(), backoff);
    }
  });
}

/** PortOne's own list over the window, page by page: payments we never heard of are stored. */
async function sweep(
  ctx: ServiceContext,
  options: ReconcileOptions,
  run: RunState,
  window: { from: number; to: number },
  signal: AbortSignal,
  renew: () => Promise<void>,
) {
  for (let page = 1; page <= MAX_PAGES && !signal.aborted; page++) {
    const answer = await ctx.portone.payments.listByStatus(
      { payment_status: 'all', from: window.from, to: window.to, page, limit: options.pageSize },
      { signal },
    );
    run.swept += answer.list.length;
    await eachLimited(answer.list, options.concurrency, async (payment) => {
      try {
        await reconcilePayment(ctx, run, payment, 'sweep');
      } catch (err) {
        run.errors += 1;
        ctx.log.warn({ err, impUid: payment.imp_uid }, 'reconciliation could not store a payment');
      }
    });
    await renew();
    if (answer.list.length < options.pageSize || page * options.pageSize >= answer.total) break;
  }
}

/** How a run ended, for /metrics. */
export interface RunSummary extends RunTotals {
  status: 'succeeded' | 'failed';
  durationSeconds: number;
}

/**
 * One reconciliation run, if this replica gets the lease: re-fetches non-final payments, then sweeps
 * PortOne's list over the window. The lease is then set to expire one interval after the run started,
 * so across replicas one run happens per interval. Undefined when another replica holds the lease.
 */
export async function reconcileOnce(
  ctx: ServiceContext,
  options: ReconcileOptions & { holder: string; onRunEnd?: (run: RunSummary) => void },
  signal: AbortSignal,
): Promise<number | undefined> {
  const started = new Date();
  const got = await acquireLease(
    ctx.db,
    LEASE,
    options.holder,
    new Date(started.getTime() + WORKING_LEASE_MS),
    started,
  );
  if (!got) return undefined;
  const to = unixSeconds(ctx.clock);
  const window = { from: to - options.windowSeconds, to };
  const runId = await startRun(ctx.db, {
    holder: options.holder,
    startedAt: started,
    windowFrom: new Date(window.from * 1000),
    windowTo: new Date(window.to * 1000),
  });
  const run: RunState = { runId, rechecked: 0, swept: 0, changed: 0, discovered: 0, errors: 0 };
  const renew = async () => {
    if (!(await extendLease(ctx.db, LEASE, options.holder, new Date(Date.now() + WORKING_LEASE_MS)))) {
      throw new Error('reconciliation lease lost');
    }
  };
  let status: RunSummary['status'] = 'failed';
  try {
    await recheck(ctx, options, run, signal);
    await renew();
    await sweep(ctx, options, run, window, signal, renew);
    const { runId: _, ...totals } = run;
    status = signal.aborted ? 'failed' : 'succeeded';
    await finishRun(ctx.db, runId, { ...totals, status });
  } catch (err) {
    const { runId: _, ...totals } = run;
    const message = err instanceof Error ? err.message : String(err);
    status = 'failed';
    await finishRun(ctx.db, runId, { ...totals, status, error: message });
    ctx.log.warn({ err, runId }, 'reconciliation run failed');
  } finally {
    const { runId: _, ...totals } = run;
    options.onRunEnd?.({ ...totals, status, durationSeconds: (Date.now() - started.getTime()) / 1000 });
    await extendLease(
      ctx.db,
      LEASE,
      options.holder,
      new Date(started.getTime() + options.intervalSeconds * 1000),
    ).catch(() => undefined);
  }
  if (run.changed > 0 || run.errors > 0) ctx.log.info({ ...run }, 'reconciliation run finished');
  return runId;
}

/** /metrics: runs by outcome, what they changed and found, and when the last one ended. */
function runMetrics(app: FastifyInstance): (run: RunSummary) => void {
  const registers = [app.metricsRegistry];
  const runs = new Counter({
    name: 'reconcile_runs_total',
    help: 'Reconciliation runs this replica made, by status',
    labelNames: ['status'],
    registers,
  });
  const changed = new Counter({
    name: 'reconcile_payments_changed_total',
    help: 'Stored payments reconciliation changed (status or cancelled amount), discovered ones included',
    registers,
  });
  const discovered = new Counter({
    name: 'reconcile_payments_discovered_total',
    help: 'Payments the store never heard of that the sweep of PortOne found',
    registers,
  });
  const errors = new Counter({
    name: 'reconcile_errors_total',
    help: 'Payments a run could not re-fetch or store',
    registers,
  });
  const portoneReads = new Counter({
    name: 'reconcile_portone_payments_read_total',
    help: 'Payments read from PortOne by reconciliation, by kind (recheck, sweep)',
    labelNames: ['kind'],
    registers,
  });
  const duration = new Gauge({
    name: 'reconcile_last_run_duration_seconds',
    help: 'How long the last run of this replica took',
    registers,
  });
  const lastSucceeded = new Gauge({
    name: 'reconcile_last_success_timestamp_seconds',
    help: 'When the last successful run of this replica ended (UNIX seconds)',
    registers,
  });
  return (run) => {
    runs.inc({ status: run.status });
    changed.inc(run.changed);
    discovered.inc(run.discovered);
    errors.inc(run.errors);
    portoneReads.inc({ kind: 'recheck' }, run.rechecked);
    portoneReads.inc({ kind: 'sweep' }, run.swept);
    duration.set(run.durationSeconds);
    if (run.status === 'succeeded') lastSucceeded.set(Date.now() / 1000);
  };
}

/**
 * Reconciliation on a timer. Each replica looks every fifth of an interval (at most every 5 s) whether
 * a run is due; the lease in MariaDB decides who runs, so one run happens per interval in total. The
 * first run is one interval after start (a restart loop does not hammer PortOne). Closing aborts a run.
 */
async function reconcilerPlugin(app: FastifyInstance, options: ReconcileOptions) {
  const holder = options.holder ?? defaultHolder();
  const intervalMs = options.intervalSeconds * 1000;
  const firstAt = Date.now() + intervalMs;
  const onRunEnd = runMetrics(app);
  startJob(app, {
    component: 'reconcile',
    everyMs: Math.max(100, Math.min(intervalMs / 5, 5_000)),
    async pass(log, signal) {
      if (Date.now() < firstAt) return;
      await reconcileOnce(jobContext(app, log), { ...options, holder, onRunEnd }, signal);
    },
    failed: (log, err) => log.error({ err }, 'reconciliation failed'),
  });
}

export const reconciler = fp(reconcilerPlugin, { name: 'reconciler', dependencies: ['db', 'portone'] });
