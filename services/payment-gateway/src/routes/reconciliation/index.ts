import { problemResponses } from '@repo/service-kit';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ReconciliationRunNotFoundError } from '../../errors.ts';
import { PageMeta, PagingQuery } from '../../schemas/common.ts';
import { getRun, listRuns, type RunRecord } from '../../store/reconciliation.repository.ts';

const tags = ['reconciliation'];

const RunSchema = z
  .object({
    id: z.number().int(),
    holder: z.string().meta({ description: 'the replica that ran it' }),
    status: z.enum(['running', 'succeeded', 'failed']),
    started_at: z.string(),
    finished_at: z.string().nullable(),
    window_from: z.string().meta({ description: "start of the sweep's window (PortOne status time)" }),
    window_to: z.string(),
    rechecked: z.number().int().meta({ description: 'non-final payments re-fetched' }),
    swept: z.number().int().meta({ description: "payments in PortOne's list over the window" }),
    changed: z.number().int().meta({ description: 'payments whose stored status or cancel amount changed' }),
    discovered: z.number().int().meta({ description: 'payments the store had never seen' }),
    errors: z.number().int(),
    error: z.string().nullable(),
  })
  .meta({ id: 'ReconciliationRun' });

const ChangeSchema = z.object({
  imp_uid: z.string(),
  merchant_uid: z.string(),
  from_status: z.string().nullable().meta({ description: 'null: the store had never seen the payment' }),
  to_status: z.string(),
  from_cancel_amount: z.number().nullable(),
  to_cancel_amount: z.number(),
  reason: z.enum(['recheck', 'sweep']),
  at: z.string(),
});

const RunDetailSchema = RunSchema.extend({ changes: z.array(ChangeSchema) }).meta({ id: 'ReconciliationRunDetail' });

function toApiRun(r: RunRecord) {
  return {
    id: r.id,
    holder: r.holder,
    status: r.status as 'running' | 'succeeded' | 'failed',
    started_at: r.startedAt.toISOString(),
    finished_at: r.finishedAt?.toISOString() ?? null,
    window_from: r.windowFrom.toISOString(),
    window_to: r.windowTo.toISOString(),
    rechecked: r.rechecked,
    swept: r.swept,
    changed: r.changed,
    discovered: r.discovered,
    errors: r.errors,
    error: r.error,
  };
}

/** What reconciliation runs did (read-only; the runs themselves are src/jobs/reconcile.ts). */
export const reconciliationRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/runs',
    {
      schema: {
        tags,
        summary: 'List reconciliation runs',
        description: 'Newest first, across all replicas.',
        querystring: z.object(PagingQuery),
        response: { 200: z.object({ ...PageMeta, items: z.array(RunSchema) }), ...problemResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const { page, limit } = request.query;
      const { total, items } = await listRuns(app.db, page, limit);
      return { total, page, limit, items: items.map(toApiRun) };
    },
  );

  app.get(
    '/runs/:id',
    {
      schema: {
        tags,
        summary: 'One reconciliation run and what it changed',
        params: z.object({ id: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER) }),
        response: { 200: RunDetailSchema, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const run = await getRun(app.db, request.params.id);
      if (!run) throw new ReconciliationRunNotFoundError(`no reconciliation run ${request.params.id}`);
      return {
        ...toApiRun(run),
        changes: run.changes.map((c) => ({
          imp_uid: c.impUid,
          merchant_uid: c.merchantUid,
          from_status: c.fromStatus,
          to_status: c.toStatus,
          from_cancel_amount: c.fromCancelAmount,
          to_cancel_amount: c.toCancelAmount,
          reason: c.reason,
          at: c.at.toISOString(),
        })),
      };
    },
  );
};
