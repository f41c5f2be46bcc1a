import type { FastifyBaseLogger, FastifyInstance } from 'fastify';

/** A background job: passes run on a timer for as long as the app is open. */
export interface Job {
  /** The `component` of its log lines. */
  component: string;
  /** How often a pass starts (a tick while one runs is skipped, or queued with `queue`). */
  everyMs: number;
  /** Also a pass once the app is ready: a process restarted more often than `everyMs` still runs it. */
  atReady?: boolean;
  /** A tick or nudge while a pass runs queues one more right after it. */
  queue?: boolean;
  /** One pass; `signal` aborts when the app closes. `true`: work may be left, another pass follows at once. */
  pass(log: FastifyBaseLogger, signal: AbortSignal): Promise<unknown>;
  /** Logs a pass that failed (`closing`: the app was closing when it did). */
  failed(log: FastifyBaseLogger, err: unknown, closing: boolean): void;
}

/**
 * Runs `job` until the app closes: passes never overlap within this process; closing stops the timer,
 * aborts the running pass and waits for it. Returns a nudge (a pass now, or right after the running one).
 */
export function startJob(app: FastifyInstance, job: Job): () => void {
  const log = app.log.child({ component: job.component });
  const closing = new AbortController();
  let running: Promise<void> | undefined;
  let again = false;

  const tick = (queue = job.queue ?? false) => {
    if (closing.signal.aborted) return;
    if (running) {
      again ||= queue;
      return;
    }
    running = job
      .pass(log, closing.signal)
      .then((more) => {
        if (more === true) again = true;
      })
      .catch((err: unknown) => job.failed(log, err, closing.signal.aborted))
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          setImmediate(tick);
        }
      });
  };

  const timer = setInterval(tick, job.everyMs);
  timer.unref();
  if (job.atReady) app.addHook('onReady', async () => tick());
  app.addHook('preClose', async () => {
    clearInterval(timer);
    closing.abort();
    await running;
  });
  return () => tick(true);
}
