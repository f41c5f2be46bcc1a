import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
  LogController,
} from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { loggerOptions, serializeRequest, stdoutDestination } from './logger.ts';
import { problemBody } from './problem.ts';

/** Where both services' APIs live, behind the one nginx front. */
export const API_PREFIX = '/api/v1';

export interface BaseOptions {
  name: string;
  logLevel: string;
  trustedProxies: string[];
  bodyLimit?: number;
  /** One "request completed" line per answered request (default true; LOG_REQUESTS). */
  logRequests?: boolean;
  /** Where log lines go instead of stdout (tests capture them to check nothing secret is logged). */
  logStream?: { write(line: string): void };
}

/** Fastify options both services start from: pino with the redact list, proxy trust, request ids. */
export function fastifyOptions(options: BaseOptions): FastifyServerOptions {
  return {
    // One option set for both services: the redact list on every line, request URLs with their
    // secret-looking query values redacted.
    logger: {
      ...loggerOptions(options.logLevel, options.name),
      serializers: { req: serializeRequest },
      stream: options.logStream ?? stdoutDestination(),
    },
    // Only the configured proxy may set X-Forwarded-For; loopback is always trusted (local nginx).
    trustProxy: ['loopback', ...options.trustedProxies],
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    // The caller's X-Request-Id when it is a sane token, a fresh UUID otherwise (see requestId()).
    requestIdHeader: false,
    genReqId: requestId,
    logController: new OneLineRequestLog({ disableRequestLogging: options.logRequests === false }),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    frameworkErrors: frameworkProblem,
    // Long path parameters reach the route schema, which names the parameter, not a bare 414.
    routerOptions: { maxParamLength: 1024 },
  };
}

/**
 * One info line per request, written when its answer is finished: the request (method, URL with
 * secret-looking query values redacted, caller address), the status and the time taken. Fastify's
 * default writes a second info line when the request arrives; under load that line was 3-5% of
 * either service's CPU per request (bench/) and repeated what the completion line says. Arrival is
 * still logged at debug level, for following a request that has not been answered yet.
 */
class OneLineRequestLog extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    if (!this.isLogDisabled(request)) request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    const line = { req: request, res: reply, responseTime: reply.elapsedTime };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request completed');
  }
}

/** What a caller (or nginx) may send as X-Request-Id: a token short and plain enough to log and echo. */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:@-]{1,128}$/;

/**
 * The request id every log line, problem body and PortOne audit row carries, echoed as X-Request-Id:
 * the caller's own when it matches REQUEST_ID_PATTERN (so one id follows a request across systems),
 * otherwise a new UUID (an id that could break a log line or a header is never taken over).
 */
export function requestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID_PATTERN.test(given) ? given : randomUUID();
}

const FRAMEWORK_ERRORS: Record<string, { status: number; code: string; detail: string }> = {
  FST_ERR_BAD_URL: { status: 400, code: 'BAD_URL', detail: 'the URL is not validly percent-encoded' },
  FST_ERR_MAX_PARAM_LENGTH: { status: 414, code: 'PARAM_TOO_LONG', detail: 'a path parameter is too long' },
};

/**
 * Errors Fastify raises before any route or error handler runs (a malformed percent-encoding, a
 * parameter beyond maxParamLength, an unparseable Content-Type): by default Fastify answers them with
 * its own JSON; here they get the one problem shape. Only the code is logged: the message repeats
 * the URL, query string included.
 */
export function frameworkProblem(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const known = FRAMEWORK_ERRORS[error.code];
  const status =
    known?.status ?? (error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400);
  const code = known?.code ?? 'BAD_REQUEST';
  request.log.info({ code: error.code, status }, 'request refused before routing');
  return reply
    .code(status)
    .header('x-request-id', String(request.id))
    .type('application/problem+json')
    .send({
      ...problemBody(status, code, known?.detail ?? error.message),
      instance: request.url.split('?')[0] ?? '',
      requestId: String(request.id),
    });
}

/** Route schemas are zod, set once at the root. */
export function useZod(app: FastifyInstance): void {
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
}

/** Every answer, errors and 404s included, carries the request's id (set at the root, first hook). */
export function echoRequestId(app: FastifyInstance): void {
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', String(request.id));
    done();
  });
}
