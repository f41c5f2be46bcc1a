export { type ApiKey, type AuthOptions, auth, type Caller, parseApiKeys, type Role } from './auth.ts';
export { type Clock, systemClock, unixSeconds } from './clock.ts';
export {
  ConfigError,
  env,
  envFilePath,
  envJsonSchema,
  exitOnConfigError,
  type LoadConfigOptions,
  loadConfig,
  parseConfig,
} from './config.ts';
export { type DocsOptions, docs, type OpenApiDocument, type OpenApiOperation } from './docs.ts';
export { drain } from './drain.ts';
export {
  AppError,
  BadRequestError,
  ConflictError,
  defineError,
  ForbiddenError,
  NotFoundError,
  UnauthorizedError,
} from './errors.ts';
export { createHealthRoutes, type HealthOptions } from './health.ts';
export { releaseStartupMemory } from './heap.ts';
export {
  API_PREFIX,
  type BaseOptions,
  echoRequestId,
  fastifyOptions,
  frameworkProblem,
  REQUEST_ID_PATTERN,
  requestId,
  useZod,
} from './http.ts';
export { loggerOptions, REDACTED_KEYS, redactLine, redactUrl, serializeRequest } from './logger.ts';
export { Counter, Gauge, Histogram, metrics } from './metrics.ts';
export {
  type Problem,
  type ProblemOptions,
  ProblemSchema,
  problemBody,
  problemHandler,
  problemResponses,
} from './problem.ts';
export { type RunOptions, runServer } from './server.ts';
