/**
 * The error catalog shape shared by both services: every error a service means to send carries a
 * stable `code` and an HTTP `statusCode`; the root error handler turns it into a problem body.
 */
export class AppError extends Error {
  readonly code: string;
  readonly statusCode: number;
  /** Extra members for the problem body (safe to show to callers). */
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: string,
    statusCode: number,
    message: string,
    options: { details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.statusCode = statusCode;
    this.details = options.details;
  }
}

/** Declares an error class with a fixed code and status, in the style of fastify's `createError`. */
export function defineError(code: string, statusCode: number, title?: string) {
  return class extends AppError {
    static readonly code = code;
    constructor(message: string = title ?? code, options: { details?: Record<string, unknown>; cause?: unknown } = {}) {
      super(code, statusCode, message, options);
      this.name = code;
    }
  };
}

export const NotFoundError = defineError('NOT_FOUND', 404, 'Resource not found');
export const ConflictError = defineError('CONFLICT', 409, 'Conflict');
export const UnauthorizedError = defineError('UNAUTHORIZED', 401, 'Missing or invalid API key');
export const ForbiddenError = defineError('FORBIDDEN', 403, 'Forbidden');
export const BadRequestError = defineError('BAD_REQUEST', 400, 'Bad request');
