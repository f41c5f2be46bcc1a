import type { AppError } from '@repo/service-kit';

/** What route plugins that stream need from the app: the heartbeat period and the error translator. */
export interface StreamRouteOptions {
  heartbeatMs: number;
  translate: (error: unknown) => AppError | undefined;
  clock: () => Date;
}
