import type { IncomingHttpHeaders } from 'node:http';
import type { z } from 'zod';
import {
  PortOneApiError,
  PortOneAuthError,
  PortOneNotFoundError,
  PortOneResponseError,
  PortOneUnavailableError,
} from '../errors.ts';
import { EnvelopeSchema } from '../schemas/common.ts';
import { parseRetryAfter } from './failure.ts';

/** How to read one operation's answer. */
export interface ResponseSpec {
  operation: string;
  schema: z.ZodType;
  /** Multi-lookup: 207 is a partial success and 404 an empty one. */
  multi?: boolean | undefined;
}

/** Attempt facts that end up on the error. */
export interface AttemptFacts {
  attempts: number;
  /** `outcomeKnown` for answers that leave a write's effect open (5xx, 429). */
  outcomeKnownIfAmbiguous: boolean;
  /** Local clock (ms) for Retry-After dates without a `Date` header. */
  nowMs: number;
}

/** A validated PortOne answer. */
export interface PortOneAnswer {
  status: number;
  data: unknown;
}

function parseEnvelope(text: string) {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = EnvelopeSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

/**
 * Maps PortOne's answer to data or a typed error. `code != 0` is a failure whatever the HTTP status
 * (PortOne reports most business failures of mutations as HTTP 200). Only the envelope's code and
 * message are kept; the body itself never reaches an error.
 */
export function interpretResponse(
  spec: ResponseSpec,
  status: number,
  headers: IncomingHttpHeaders,
  text: string,
  facts: AttemptFacts,
): PortOneAnswer {
  const envelope = parseEnvelope(text);
  const details = {
    operation: spec.operation,
    status,
    code: envelope?.code,
    portoneMessage: envelope?.message ?? undefined,
    attempts: facts.attempts,
  };
  if (status === 401) throw new PortOneAuthError(details);
  if (status === 429 || status >= 500) {
    throw new PortOneUnavailableError({
      ...details,
      outcomeKnown: facts.outcomeKnownIfAmbiguous,
      retryAfterMs: parseRetryAfter(headers, facts.nowMs),
    });
  }
  if (status === 404) {
    if (spec.multi) return { status, data: [] };
    throw new PortOneNotFoundError(details);
  }
  if (envelope === undefined) {
    throw new PortOneResponseError({ ...details, reason: 'response is not a PortOne JSON envelope' });
  }
  if (envelope.code !== 0 || status < 200 || status >= 300) throw new PortOneApiError(details);

  const parsed = spec.schema.safeParse(envelope.response);
  if (!parsed.success) {
    throw new PortOneResponseError({
      ...details,
      reason: 'response does not match the expected schema',
      issues: parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
    });
  }
  return { status, data: parsed.data };
}
