import { createHealthRoutes } from '@repo/service-kit';
import { z } from 'zod';
import { NotReadyError } from '../../errors.ts';
import { readiness } from '../../store/migrator.ts';

/** `/health` and `/ready`: ready when the store is reachable and migrated. */
export const healthRoutes = createHealthRoutes({
  ready: {
    summary: 'Readiness: the store is reachable and migrated',
    response: z.object({ status: z.literal('ready') }),
    check: async (app, request) => {
      const state = await readiness(app.db).catch((err: unknown) => {
        request.log.warn({ err }, 'store not reachable');
        return undefined;
      });
      if (!state?.ready) {
        throw new NotReadyError(state?.reason ?? 'store not reachable', { details: { store: state ?? null } });
      }
      return { status: 'ready' as const };
    },
  },
});
