import type { IncomingHttpHeaders } from 'node:http';
import {
  PortOneAuthError,
  PortOneNetworkError,
  PortOneNotFoundError,
  PortOneTimeoutError,
  PortOneUnavailableError,
} from '../errors.ts';

/**
 * Failures raised before a single byte of the request was written: the connection was never
 * established, so PortOne cannot have acted on it. Anything else that goes wrong on the wire (reset,
 * socket closed, headers/body timeout) may come after PortOne received the request.
 */
const NEVER_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** The client was closed: not a transient condition, never retried. */
const CLOSED_CODES = new Set(['UND_ERR_CLOSED', 'UND_ERR_DESTROYED']);

// Errors known to have been raised before the request left (connect failures, and the token request
// failing before the call itself was dispatched). Kept out of the public error shape on purpose.
const neverSent = new WeakSet<object>();

/** Marks an error as raised before the request could reach PortOne. */
export function markNeverSent<E extends object>(error: E): E {
  neverSent.add(error);
  return error;
}

/** True when the failed request provably never reached PortOne. */
export function isNeverSent(error: unknown): boolean {
  return typeof error === 'object' && error !== null && neverSent.has(error);
}

/** The system or undici code of a transport error (also inside AggregateError from happy eyeballs). */
export function transportCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string') return e.code;
  if (Array.isArray(e.errors) && e.errors.length > 0) return transportCode(e.errors[0]);
  if (e.cause !== undefined && e.cause !== error) return transportCode(e.cause);
  return undefined;
}

/** True for errors that mean the client itself was closed. */
export function isClosedError(error: unknown): boolean {
  const code = transportCode(error);
  return code !== undefined && CLOSED_CODES.has(code);
}

/** The class name a transport error maps to (`AbortError` for a caller's abort). */
export function transportFailureName(error: unknown): string {
  if (error instanceof Error && error.name === 'AbortError') return 'AbortError';
  const code = transportCode(error);
  if (code === 'UND_ERR_ABORTED') return 'AbortError';
  return code !== undefined && TIMEOUT_CODES.has(code) ? 'PortOneTimeoutError' : 'PortOneNetworkError';
}

/** Turns an undici/system error into a typed client error (the message names the code only). */
export function transportFailure(
  error: unknown,
  details: { operation: string; attempts: number; outcomeKnownIfSent: boolean },
): PortOneTimeoutError | PortOneNetworkError {
  const code = transportCode(error);
  const unsent = code !== undefined && NEVER_SENT_CODES.has(code);
  const base = {
    operation: details.operation,
    attempts: details.attempts,
    outcomeKnown: unsent || details.outcomeKnownIfSent,
    reason: code ?? (error instanceof Error ? error.name : 'transport error'),
    cause: error,
  };
  const failure =
    code !== undefined && TIMEOUT_CODES.has(code) ? new PortOneTimeoutError(base) : new PortOneNetworkError(base);
  return unsent ? markNeverSent(failure) : failure;
}

/**
 * `Retry-After` in milliseconds: delay-seconds or an HTTP date. A date is measured against the
 * response's own `Date` header when present, so a skewed local clock does not matter.
 */
export function parseRetryAfter(headers: IncomingHttpHeaders, nowMs: number): number | undefined {
  const raw = headers['retry-after'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  const serverNow = typeof headers.date === 'string' ? Date.parse(headers.date) : Number.NaN;
  return Math.max(0, at - (Number.isNaN(serverNow) ? nowMs : serverNow));
}

/** The class an HTTP answer maps to, or undefined for success (shared by the executor and onCall). */
export function failureName(status: number, code: number | undefined): string | undefined {
  if (status === 401) return PortOneAuthError.name;
  if (status === 429 || status >= 500) return PortOneUnavailableError.name;
  if (status === 404) return PortOneNotFoundError.name;
  if (code === undefined) return 'PortOneResponseError';
  if (code !== 0 || status >= 300) return 'PortOneApiError';
  return undefined;
}
