import type { AppError } from '@repo/service-kit';
import {
  DockerConflictError,
  DockerError,
  DockerNotFoundError,
  DockerRejectedError,
  DockerUnavailableError,
} from '../errors.ts';

/** What dockerode's modem attaches to an error from an engine answer. */
interface ModemError {
  statusCode: number;
  json?: unknown;
  message: string;
}

// UND_ERR_SOCKET: undici's "other side closed" (the engine went away mid-answer on the hot-read pool).
const SOCKET_ERRORS = new Set([
  'ENOENT',
  'ECONNREFUSED',
  'EACCES',
  'ECONNRESET',
  'EPIPE',
  'ENOTSOCK',
  'UND_ERR_SOCKET',
]);

/** An engine answer outside 2xx on the direct (undici) path, shaped as dockerode's modem shapes it. */
export class EngineAnswerError extends Error {
  readonly statusCode: number;
  readonly json: unknown;
  readonly reason: string;
  constructor(statusCode: number, body: string) {
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      json = Buffer.from(body); // a plain-text answer, as dockerode keeps it
    }
    const message = (json as { message?: unknown } | null)?.message;
    super(`(HTTP code ${statusCode}) ${typeof message === 'string' ? message : body.trim()}`);
    this.name = 'EngineAnswerError';
    this.statusCode = statusCode;
    this.json = json;
    this.reason = `HTTP code ${statusCode}`;
  }
}

function isModemError(error: unknown): error is ModemError {
  return (
    error instanceof Error &&
    typeof (error as { statusCode?: unknown }).statusCode === 'number' &&
    'json' in error &&
    'reason' in error
  );
}

/** The engine's HTTP status of a failed dockerode call, if the engine answered at all. */
export function dockerStatus(error: unknown): number | undefined {
  return isModemError(error) ? error.statusCode : undefined;
}

/** Docker's own message (`{"message": ...}`), without dockerode's "(HTTP code 404) ..." wrapping. */
export function dockerMessage(error: unknown): string {
  if (isModemError(error)) {
    const json = error.json as { message?: unknown } | null | undefined;
    if (json && typeof json.message === 'string') return json.message;
    if (Buffer.isBuffer(error.json)) {
      const text = error.json.toString('utf8').trim();
      if (text) return text;
    }
    return error.message.replace(/^\(HTTP code \d+\) [^-]*- /, '').trim();
  }
  return error instanceof Error ? error.message : String(error);
}

/** True when the socket itself failed: nothing listens, no permission, connection dropped. */
export function isEngineUnreachable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && SOCKET_ERRORS.has(code) && !isModemError(error);
}

/** Requests Docker (20.10) refuses with a 500 although the request, not the engine, is at fault. */
const REJECTED_AS_500 = /^invalid reference format/i;
/** Refusals because of the engine's state (swarm-only features on a standalone engine). */
const CONFLICT_AS_5XX = /not a swarm manager/i;

/**
 * Maps dockerode errors to the agent's catalog for the root problem handler. Docker answers 403
 * for operations refused because of state (a network with endpoints), which is a conflict to us.
 */
export function translateDockerError(socketPath: string) {
  return (error: unknown): AppError | undefined => {
    if (isEngineUnreachable(error)) {
      const code = (error as { code: string }).code;
      return new DockerUnavailableError(`Docker engine unreachable at ${socketPath} (${code})`, { cause: error });
    }
    const status = dockerStatus(error);
    if (status === undefined) return undefined;
    const message = dockerMessage(error);
    if (status === 404) return new DockerNotFoundError(message, { cause: error });
    if (status === 409 || status === 403) return new DockerConflictError(message, { cause: error });
    if (status === 400 || (status === 500 && REJECTED_AS_500.test(message))) {
      return new DockerRejectedError(message, { cause: error });
    }
    if (status >= 500 && CONFLICT_AS_5XX.test(message)) return new DockerConflictError(message, { cause: error });
    return new DockerError(`Docker engine error: ${message}`, { cause: error, details: { dockerStatus: status } });
  };
}
