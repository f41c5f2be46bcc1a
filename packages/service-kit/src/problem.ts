import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from './errors.ts';

/** RFC 9457 problem details, plus a stable `code` and, for validation failures, the issues. */
export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    instance: z.string().optional(),
    requestId: z.string().optional(),
    issues: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .loose()
  .meta({ id: 'Problem', description: 'RFC 9457 problem details' });
export type Problem = z.infer<typeof ProblemSchema>;

export interface ProblemOptions {
  /**
   * Translates errors thrown by packages (PortOne, Docker) into AppErrors. Return undefined for
   * errors it does not know; they become a generic 500.
   */
  translate?: (error: unknown) => AppError | undefined;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function problemBody(
  status: number,
  code: string,
  detail: string,
  extra: Record<string, unknown> = {},
): Problem {
  // Extra members never replace the standard ones (a detail named `status` must not change the status).
  return {
    ...extra,
    type: `urn:problem:${code.toLowerCase().replaceAll('_', '-')}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    code,
  };
}

function validationIssues(error: FastifyError): { field: string; message: string }[] {
  const where = error.validationContext ?? 'request';
  return (error.validation ?? []).flatMap((v) => {
    const path = (v.instancePath ?? '').split('/').filter(Boolean);
    const params = v.params as { keys?: string[] } | undefined;
    if (v.keyword === 'unrecognized_keys' && Array.isArray(params?.keys)) {
      return params.keys.map((key) => ({ field: [where, ...path, key].join('.'), message: 'unknown field' }));
    }
    return [{ field: [where, ...path].join('.'), message: v.message ?? 'invalid' }];
  });
}

function send(request: FastifyRequest, reply: FastifyReply, body: Problem) {
  return reply
    .code(body.status)
    .type('application/problem+json')
    .send({ ...body, instance: request.url.split('?')[0], requestId: String(request.id) });
}

/**
 * The one error handler: validation → 400, AppError → its status, Fastify's own client errors
 * (bad JSON, body too large, wrong content type) → their status, anything else → 500 with a generic
 * message and the whole error in the log.
 */
async function problemPlugin(app: FastifyInstance, options: ProblemOptions) {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(error) || (error.validation && error.validation.length > 0)) {
      const issues = validationIssues(error);
      const detail = issues.map((i) => `${i.field}: ${i.message}`).join('; ');
      return send(request, reply, problemBody(400, 'VALIDATION_FAILED', detail || 'invalid request', { issues }));
    }
    const known = error instanceof AppError ? error : options.translate?.(error);
    if (known) {
      if (known.statusCode >= 500) request.log.error({ err: error }, known.message);
      else request.log.info({ code: known.code, status: known.statusCode }, known.message);
      return send(request, reply, problemBody(known.statusCode, known.code, known.message, known.details ?? {}));
    }
    if (
      !isResponseSerializationError(error) &&
      typeof error.statusCode === 'number' &&
      error.statusCode >= 400 &&
      error.statusCode < 500
    ) {
      request.log.info({ code: error.code, status: error.statusCode }, error.message);
      return send(request, reply, problemBody(error.statusCode, error.code ?? 'BAD_REQUEST', error.message));
    }
    request.log.error({ err: error }, 'unhandled error');
    return send(request, reply, problemBody(500, 'INTERNAL', 'internal server error'));
  });

  app.setNotFoundHandler((request, reply) =>
    send(
      request,
      reply,
      problemBody(404, 'ROUTE_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`),
    ),
  );
}

export const problemHandler = fp(problemPlugin, { name: 'problem-handler' });

/** Response schemas for the error statuses a route documents. */
export function problemResponses(...statuses: number[]): Record<number, typeof ProblemSchema> {
  return Object.fromEntries(statuses.map((s) => [s, ProblemSchema.describe(TITLES[s] ?? 'Error')]));
}
