import type { FastifyInstance } from 'fastify';
import { releaseStartupMemory } from './heap.ts';

export interface RunOptions {
  host: string;
  port: number;
  /** How long in-flight requests get after SIGTERM before the process exits anyway. */
  shutdownTimeoutMs?: number;
}

/**
 * Listens and closes cleanly on SIGTERM/SIGINT: stop accepting, let in-flight requests finish
 * (Fastify answers new ones 503 while closing), run onClose hooks (db pools, clients), exit. Once
 * listening, start-up's garbage is collected (releaseStartupMemory).
 */
export async function runServer(app: FastifyInstance, options: RunOptions): Promise<void> {
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      app.log.error('shutdown timed out, exiting');
      process.exit(1);
    }, options.shutdownTimeoutMs ?? 10_000);
    timer.unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  await app.listen({ host: options.host, port: options.port });
  releaseStartupMemory();
}
