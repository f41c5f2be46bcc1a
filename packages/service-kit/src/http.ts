import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { loggerOptions } from './logger.ts';

export interface BaseOptions {
  name: string;
  logLevel: string;
  trustedProxies: string[];
  bodyLimit?: number;
  /** Where log lines go instead of stdout (tests capture them to check nothing secret is logged). */
  logStream?: { write(line: string): void };
}

/** Fastify options both services start from: pino with the redact list, proxy trust, request ids. */
export function fastifyOptions(options: BaseOptions): FastifyServerOptions {
  return {
    logger: options.logStream
      ? { ...loggerOptions(options.logLevel, options.name), stream: options.logStream }
      : loggerOptions(options.logLevel, options.name),
    // Only the configured proxy may set X-Forwarded-For; loopback is always trusted (local nginx).
    trustProxy: ['loopback', ...options.trustedProxies],
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    requestIdHeader: 'x-request-id',
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  };
}

/** Route schemas are zod, set once at the root. */
export function useZod(app: FastifyInstance): void {
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
}
