import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { FastifyInstance, FastifyRequest, onRequestHookHandler, onResponseHookHandler } from 'fastify';
import fp from 'fastify-plugin';

export interface AuditPluginOptions {
  /** JSON-lines file every change is appended to. */
  file: string;
  clock?: () => Date;
}

export interface AuditEntry {
  time: string;
  requestId: string;
  caller: string;
  action: string;
  target: string;
  result: 'ok' | 'denied' | 'error' | 'aborted';
  status: number;
  detail?: string;
}

/** What a handler adds to its audit line: the target it resolved, a failure inside a stream. */
export interface AuditNote {
  target?: string;
  failed?: string;
  aborted?: boolean;
  /** Set once the line is written (a request ends once, by finishing or by its caller leaving). */
  recorded?: boolean;
}

const NOTE = Symbol('audit note');

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Audit action name (`container.stop`); routes that change something set it. */
    audit?: string;
  }
  interface FastifyRequest {
    audit: AuditNote;
  }
}

function targetOf(request: FastifyRequest): string {
  if (request.audit.target) return request.audit.target;
  const params = (request.params ?? {}) as Record<string, unknown>;
  const body = (request.body && typeof request.body === 'object' ? request.body : {}) as Record<string, unknown>;
  const query = (request.query ?? {}) as Record<string, unknown>;
  const candidate = params.id ?? params.name ?? params.project ?? body.name ?? body.image ?? query.t;
  return typeof candidate === 'string' ? candidate : '-';
}

/**
 * The audit trail: every route with `config.audit` leaves one line when its answer is done, both
 * in the log (`audit` message, so it goes wherever the logs go) and in a JSON-lines file. Its hooks
 * are added as a route is: register it before the routes.
 */
async function auditPlugin(app: FastifyInstance, options: AuditPluginOptions) {
  const clock = options.clock ?? (() => new Date());
  await mkdir(dirname(options.file), { recursive: true });
  let writes: Promise<void> = Promise.resolve();

  // Any route may add to its note (a stream records how it failed); only audited routes write it. The
  // note is made when first read, so a request of any other route costs nothing here.
  app.decorateRequest('audit', {
    getter(this: FastifyRequest & { [NOTE]?: AuditNote }) {
      this[NOTE] ??= {};
      return this[NOTE];
    },
  });
  const record = (action: string, request: FastifyRequest, status: number) => {
    const note = request.audit;
    if (note.recorded) return;
    note.recorded = true;
    const result: AuditEntry['result'] = note.aborted
      ? 'aborted'
      : status === 403 || status === 401
        ? 'denied'
        : status >= 400 || note.failed
          ? 'error'
          : 'ok';
    const entry: AuditEntry = {
      time: clock().toISOString(),
      requestId: String(request.id),
      caller: request.caller?.name ?? 'anonymous',
      action,
      target: targetOf(request),
      result,
      status,
      ...(note.failed ? { detail: note.failed } : {}),
    };
    request.log.info({ audit: entry }, 'audit');
    writes = writes
      .then(() => appendFile(options.file, `${JSON.stringify(entry)}\n`))
      .catch((err: unknown) => request.log.error({ err, file: options.file }, 'audit file write failed'));
  };

  // Hooks on the audited routes only: app-wide ones ran on every request, reading the route's config
  // from `request.routeOptions`, which Fastify builds anew on every read.
  app.addHook('onRoute', (route) => {
    const action = route.config?.audit;
    if (!action) return;
    // A caller that leaves mid-stream gets no onResponse; the socket closing still ends the request.
    const watchClose: onRequestHookHandler = (request, reply, done) => {
      reply.raw.once('close', () => {
        if (!reply.raw.writableFinished) {
          request.audit.aborted = true;
          record(action, request, reply.statusCode);
        }
      });
      done();
    };
    const recorded: onResponseHookHandler = (request, reply, done) => {
      record(action, request, reply.statusCode);
      done();
    };
    route.onRequest = [watchClose, ...[route.onRequest ?? []].flat()];
    route.onResponse = [...[route.onResponse ?? []].flat(), recorded];
  });

  app.addHook('onClose', async () => {
    await writes;
  });
}

export const audit = fp(auditPlugin, { name: 'audit' });
